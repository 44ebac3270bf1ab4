"""The declarative row filter: keep only the rows that match, never SQL or code text."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from connectors.spec.base import Identifier, SpecModel

Scalar = str | int | float | bool

Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "is_not_null", "between"]
NULL_OPS = ("is_null", "is_not_null")
LIST_OPS = ("in", "not_in")

_VALUE = (
    "The value to compare with, written as in the data (it is converted to the column's type): "
    "a single value for =, !=, <, <=, >, >=; a non-empty list for in / not_in; a two-item list "
    "[low, high] for between (both ends included); left out for is_null / is_not_null."
)


class Condition(SpecModel):
    """One test on one column, e.g. {column: amount, op: '>', value: 50}.

    A row whose column is null fails every test except is_null (SQL's three-valued logic).
    """

    column: Identifier = Field(
        description="The column to test, by its name after rename and normalize_names."
    )
    op: Op = Field(
        description=(
            "How to compare: = != < <= > >= (one value); in / not_in (a list of values); "
            "between (inclusive range); is_null / is_not_null (no value)."
        )
    )
    value: Scalar | list[Scalar] | None = Field(default=None, description=_VALUE)

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        value, op = self.value, self.op
        if op in NULL_OPS:
            if value is not None:
                raise ValueError(f"op {op!r} takes no value: leave 'value' out")
        elif op in LIST_OPS:
            if not isinstance(value, list) or not value:
                raise ValueError(f"op {op!r} needs a non-empty list of values, e.g. [a, b]")
        elif op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueError("op 'between' needs a two-item list [low, high]")
        elif value is None or isinstance(value, list):
            raise ValueError(f"op {op!r} needs one value (not a list, not null)")
        return self


class AllOf(SpecModel):
    """Keep a row only when every filter in the list keeps it."""

    all: list[Filter] = Field(
        min_length=1, description="Filters that must all match (conditions, or nested all/any)."
    )


class AnyOf(SpecModel):
    """Keep a row when at least one filter in the list keeps it."""

    any: list[Filter] = Field(
        min_length=1, description="Filters of which one must match (conditions, or nested all/any)."
    )


def _filter_tag(value: Any) -> str:
    """Pick the model by its key, so an error speaks of one shape, not of three."""
    if isinstance(value, dict):
        keys = set(value)
    else:
        keys = set(type(value).model_fields) if isinstance(value, SpecModel) else set()
    if "all" in keys:
        return "all_of"
    return "any_of" if "any" in keys else "condition"


Filter = Annotated[
    Annotated[Condition, Tag("condition")]
    | Annotated[AllOf, Tag("all_of")]
    | Annotated[AnyOf, Tag("any_of")],
    Discriminator(_filter_tag),
]
"""A row filter: one Condition, {all: [...]} or {any: [...]}, nested as deep as needed."""

AllOf.model_rebuild()
AnyOf.model_rebuild()


def filter_columns(node: Filter) -> set[str]:
    """Every column a filter reads."""
    if isinstance(node, Condition):
        return {node.column}
    children = node.all if isinstance(node, AllOf) else node.any
    return set().union(*(filter_columns(child) for child in children))
