"""What a column's sampled values say against a format phrase.

A phrase the values do not read with ("dates are month first" of a column holding
`13/01/2024`) would give a spec whose type rejects the rows it was meant to read: the
planner asks instead, naming the column and a value, and says which order the values do
read when they read only the other one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from agent.planner.format_phrases import Said, order_of
from agent.planner.state import Column
from connectors.spec.types import parse_type
from connectors.transforms.casting import cast_column

_OTHER = {"day_first": "month_first", "month_first": "day_first"}
_ORDER_WORDS = {"day_first": "day first", "month_first": "month first"}


def reads(column: Column, typed: dict[str, Any]) -> bool:
    """Whether the column's sampled values (some) all read with a type."""
    if not [v for v in column.values if v.strip()]:
        return bool(column.format)
    return misread(column, typed) is None


def misread(column: Column, typed: dict[str, Any]) -> str | None:
    """The first sampled value a type does not read (all of them if it is no valid type);
    None when every value reads, or none was sampled."""
    values = [v for v in column.values if v.strip()]
    if not values:
        return None
    try:
        target = parse_type(typed)
    except (ValidationError, ValueError):
        return values[0]
    nulls = cast_column(pa.array(values, pa.string()), target).values.is_null().to_pylist()
    return next((value for value, null in zip(values, nulls, strict=True) if null), None)


def contradicted(column: Column, said: Said, typed: dict[str, Any], phrase: str) -> str | None:
    """The question to ask when a phrase about a column says what its values are not."""
    value = misread(column, typed)
    if value is None:
        return None
    return _question(column, said, value, phrase)


def other_order(column: Column, said: Said) -> str | None:
    """The question to ask when a date order ("month first") meets a column the profile read,
    unambiguously, in the other order; None when it did not."""
    other = _OTHER.get(said.order or "")
    pattern = column.format.get("format") if column.format else None
    if other is None or column.readings or not isinstance(pattern, str):
        return None
    if order_of(pattern) != other:
        return None
    shown = replace(column, values=column.values or column.examples)
    value = misread(shown, {"type": column.type, "style": said.order})
    return _question(shown, said, value or pattern, _ORDER_WORDS[str(said.order)])


def _question(column: Column, said: Said, value: str, phrase: str) -> str:
    other = _OTHER.get(said.order or "")
    date = column.type if column.type.split("(")[0] in ("date", "timestamp") else "date"
    if other is not None and reads(column, {"type": date, "style": other}):
        said_other = _ORDER_WORDS[other]
        return (
            f"{column.name} holds {value!r}: it does not read as you said ({phrase!r}), its "
            f"values read {said_other}. Are the dates in {column.name} {said_other}? Say "
            f"'dates in {column.name} are {said_other}', or show a value ('{column.name} looks "
            "like ...')."
        )
    example = f" ('{column.name} looks like ...')" if said.kind == "date" else ""
    return (
        f"{column.name} holds {value!r}: it does not read as you said ({phrase!r}). How are "
        f"its values written? Say it again for {column.name}{example}, or leave it out."
    )
