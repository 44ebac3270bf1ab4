"""Incremental loading: read only rows past the stored watermark, and move it forward.

The watermark is the largest cursor value of the rows read past it so far, whatever became
of them (loaded, left out by `filter` or rejected), so each row is judged by the rules once.
It lives in the target's `_dagsmith_state` table and is written in the same transaction as
the rows, so a crash never moves it past data that did not land. A `lag` re-reads a window
behind it for late rows, which only an upsert can absorb without duplicates (the spec
enforces that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from connectors.errors import SpecError
from connectors.runtime import POSITION_KEY, Since
from connectors.spec.models import Incremental
from connectors.transforms.arrow import pc

STATE_KEY = "cursor"


@dataclass
class Watermark:
    """The bounds of one incremental run and the highest cursor value seen in it."""

    spec: Incremental
    stored: str | None
    highest: Any = field(default=None, init=False)

    def lower_bound(self, dtype: pa.DataType) -> Any:
        """The exclusive lower bound (stored watermark minus lag), typed like the column."""
        text = self.stored if self.stored is not None else self.spec.initial
        if text is None:
            return None
        value = _parse(str(text), dtype, self.spec.cursor)
        if self.spec.lag and isinstance(value, datetime | date):
            return value - self.spec.lag
        return value

    def pushdown(self, column: str) -> Since | None:
        """The lower bound as text, for a source that filters where it reads."""
        text = self.stored if self.stored is not None else self.spec.initial
        if text is None:
            return None
        text = str(text)
        if self.spec.lag and not text.lstrip("-").isdigit():
            try:
                text = (datetime.fromisoformat(text) - self.spec.lag).isoformat()
            except ValueError:
                raise SpecError(
                    f"incremental cursor {self.spec.cursor!r}: {text!r} is not a timestamp"
                ) from None
        return Since(column, text, self.spec.param)

    def keep(self, batch: pa.RecordBatch) -> pa.BooleanArray:
        """Which rows are past the lower bound (all of them without one); remembers the
        largest cursor value kept. `batch` holds the cursor already typed."""
        name = self.spec.cursor
        if name not in batch.schema.names:
            raise SpecError(
                f"incremental cursor {name!r} is not a column; columns: "
                + ", ".join(batch.schema.names)
            )
        column = batch.column(name)
        _check_type(column.type, name)
        bound = self.lower_bound(column.type)
        if bound is None:
            past = pa.repeat(True, batch.num_rows)
        else:
            # A null cursor can never be "new": it is left out, not loaded every run.
            past = pc.fill_null(pc.greater(column, pa.scalar(bound, column.type)), False)
        top = pc.max(column.filter(past)).as_py()
        if top is not None and (self.highest is None or top > self.highest):
            self.highest = top
        return past

    def state(self) -> dict[str, str] | None:
        """The new watermark to commit, or None when no row moved it forward."""
        if self.highest is None:
            return None
        text = self.highest.isoformat() if isinstance(self.highest, date) else str(self.highest)
        if self.stored is not None and not _later(text, self.stored, self.highest):
            return None
        return {STATE_KEY: text}


def shown_watermark(state: dict[str, str]) -> str | None:
    """A stream's committed state as its run record shows it: the cursor, else a positioned
    source's place (JSON); None for a stream that keeps neither."""
    return state.get(STATE_KEY, state.get(POSITION_KEY))


def _check_type(dtype: pa.DataType, name: str) -> None:
    if not (pa.types.is_integer(dtype) or pa.types.is_timestamp(dtype) or pa.types.is_date(dtype)):
        raise SpecError(
            f"incremental cursor {name!r} is {dtype}, not a timestamp, date or integer",
            hint=f"declare its type in transform.types, e.g. {name}: timestamptz",
        )


def _parse(text: str, dtype: pa.DataType, name: str) -> Any:
    try:
        if pa.types.is_integer(dtype):
            return int(text)
        if pa.types.is_date(dtype):
            return date.fromisoformat(text[:10])
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SpecError(f"incremental cursor {name!r}: {text!r} is not a valid {dtype}") from None
    if getattr(dtype, "tz", None):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=None)


def _later(text: str, stored: str, highest: Any) -> bool:
    """Whether the new value is past the stored one (compared as the cursor's own type)."""
    if isinstance(highest, int):
        return highest > int(stored)
    if isinstance(highest, datetime):
        previous = datetime.fromisoformat(stored)
        if highest.tzinfo and not previous.tzinfo:
            previous = previous.replace(tzinfo=UTC)
        return highest > previous
    return text > stored
