"""The spec's column type system and its mapping onto Arrow.

Spec types are strings (`bigint`, `decimal(12,2)`, ...), or mappings that add how the
source writes the values (`{type: date, format: "%d.%m.%Y"}`, see `connectors.formats`).
They are parsed once, at the edge, into `ColumnType`; loaders map them onto their own SQL
types, which the format does not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

import pyarrow as pa

from connectors.formats import ValueFormat

TypeName = Literal[
    "string",
    "integer",
    "bigint",
    "float",
    "decimal",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "json",
]

SIMPLE_TYPES: tuple[str, ...] = (
    "string",
    "integer",
    "bigint",
    "float",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "json",
)
TYPE_HELP = ", ".join([*SIMPLE_TYPES, "decimal(p,s)"])
_DECIMAL = re.compile(r"^decimal\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)$")
_ALIASES = {
    "text": "string",
    "str": "string",
    "varchar": "string",
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "double": "float",
    "float8": "float",
    "bool": "boolean",
    "datetime": "timestamp",
    "jsonb": "json",
}


@dataclass(frozen=True)
class ColumnType:
    """A parsed spec type. `precision`/`scale` are set for decimals only; `format` says how
    a text source writes the values (None: the type's own rules, ISO 8601 for dates)."""

    name: TypeName
    precision: int | None = None
    scale: int | None = None
    format: ValueFormat | None = None

    @classmethod
    def parse(cls, text: str) -> ColumnType:
        """Parse a spec type string; raise ValueError listing the allowed types."""
        key = text.strip().lower()
        key = _ALIASES.get(key, key)
        if key in SIMPLE_TYPES:
            return cls(key)  # type: ignore[arg-type]
        if match := _DECIMAL.match(key):
            precision, scale = int(match.group(1)), int(match.group(2))
            if not 1 <= precision <= 38 or scale > precision:
                raise ValueError(
                    f"decimal({precision},{scale}) is out of range: "
                    "precision 1..38 and scale <= precision"
                )
            return cls("decimal", precision, scale)
        raise ValueError(f"unknown type {text!r}; allowed: {TYPE_HELP}")

    def __str__(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.name

    @property
    def plain(self) -> ColumnType:
        """The type without its format."""
        return replace(self, format=None) if self.format else self

    def arrow(self) -> pa.DataType:
        """The Arrow type that holds values of this column in flight."""
        if self.name == "decimal":
            assert self.precision is not None and self.scale is not None
            return pa.decimal128(self.precision, self.scale)
        return _ARROW[self.name]

    @classmethod
    def from_arrow(cls, dtype: pa.DataType) -> ColumnType:
        """The spec type that best holds an Arrow type (nested types become json)."""
        if pa.types.is_decimal(dtype):
            return cls("decimal", dtype.precision, dtype.scale)
        if pa.types.is_boolean(dtype):
            return cls("boolean")
        if pa.types.is_integer(dtype):
            small = dtype.bit_width <= 32 and not (
                pa.types.is_unsigned_integer(dtype) and dtype.bit_width == 32
            )
            return cls("integer" if small else "bigint")
        if pa.types.is_floating(dtype):
            return cls("float")
        if pa.types.is_date(dtype):
            return cls("date")
        if pa.types.is_timestamp(dtype):
            return cls("timestamptz" if dtype.tz else "timestamp")
        if holds_json(dtype):
            return cls("json")
        return cls("string")


def holds_json(dtype: pa.DataType) -> bool:
    """Whether an Arrow type holds JSON: nested values, or a source's JSON text."""
    return bool(pa.types.is_nested(dtype) or isinstance(dtype, pa.JsonType))


_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}
