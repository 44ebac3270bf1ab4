"""A column's type as a spec writes it: `date`, or `{type: date, format: "%d.%m.%Y"}`.

Both forms become a `ColumnType`; the mapping's options (`connectors.formats`) must fit the
type (a thousands separator on a date is an error that names what the type takes).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    Tag,
    TypeAdapter,
)
from pydantic_core import CoreSchema, core_schema

from connectors.formats import ValueFormat
from connectors.types import TYPE_HELP, ColumnType

_DATES = frozenset({"format", "style"})
_NUMBERS = frozenset({"thousands", "currency", "accounting", "percent"})
FITS: dict[str, frozenset[str]] = {
    "date": _DATES,
    "timestamp": _DATES | {"timezone"},
    "timestamptz": _DATES | {"timezone"},
    "integer": _NUMBERS,
    "bigint": _NUMBERS,
    "float": _NUMBERS | {"decimal"},
    "decimal": _NUMBERS | {"decimal"},
    "boolean": frozenset({"true_values", "false_values"}),
    "string": frozenset(),
    "json": frozenset(),
}
"""The format options each type takes."""


def _type_first(schema: dict[str, Any]) -> None:
    properties = schema["properties"]
    schema["properties"] = {"type": properties.pop("type"), **properties}


class FormattedType(ValueFormat):
    """A type and how the source writes its values (the options that fit the type)."""

    # The reference lists `type` first, as a spec writes it.
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_type_first)

    type: str = Field(description=f"The type, as in the short form: {TYPE_HELP}.")


def _form(value: Any) -> str:
    return "mapping" if isinstance(value, dict | FormattedType) else "text"


Written = Annotated[
    Annotated[str, Tag("text")] | Annotated[FormattedType, Tag("mapping")],
    Discriminator(_form),
]


def column_type(written: str | FormattedType) -> ColumnType:
    """The `ColumnType` a spec's type stands for.

    Raises:
        ValueError: The type is unknown, or an option does not fit it.
    """
    if isinstance(written, str):
        return ColumnType.parse(written)
    base = ColumnType.parse(written.type)
    options = written.model_dump(exclude={"type"}, exclude_defaults=True)
    misfits = sorted(set(options) - FITS[base.name])
    if misfits:
        takes = ", ".join(sorted(FITS[base.name])) or "no format options"
        raise ValueError(f"{misfits[0]} does not apply to {base}; {base} takes {takes}")
    if not options:
        return base
    fmt = ValueFormat.model_validate(options)
    if fmt.percent == "fraction" and base.name in ("integer", "bigint"):
        raise ValueError(f"percent: fraction needs float or decimal, not {base}")
    if fmt.percent == "fraction" and base.name == "decimal" and (base.scale or 0) < 2:
        raise ValueError(f"percent: fraction needs a scale of at least 2, not {base}")
    return ColumnType(base.name, base.precision, base.scale, fmt)


def written(ctype: ColumnType) -> str | dict[str, Any]:
    """A type as a spec writes it: text, or a mapping when it has a format."""
    if ctype.format is None:
        return str(ctype)
    return {"type": str(ctype), **ctype.format.options()}


def _keep_parsed(value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
    return value if isinstance(value, ColumnType) else handler(value)


def _schema(source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
    parse = core_schema.no_info_after_validator_function(
        column_type, handler.generate_schema(Written)
    )
    return core_schema.no_info_wrap_validator_function(
        _keep_parsed,
        parse,
        serialization=core_schema.plain_serializer_function_ser_schema(written),
    )


SpecType = Annotated[ColumnType, GetPydanticSchema(_schema)]
"""A column type: `bigint`, `decimal(12,2)`, or `{type: date, format: '%d.%m.%Y'}`."""


def parse_type(value: str | dict[str, Any]) -> ColumnType:
    """A spec's type, in either form, as a `ColumnType`.

    Raises:
        pydantic.ValidationError: The type or an option is not valid.
    """
    return _ADAPTER.validate_python(value)


_ADAPTER: TypeAdapter[ColumnType] = TypeAdapter(SpecType)
