"""A database's column types as spec types, and rows as Arrow batches of those types.

Types come from the database, never from the values: a table's reflected SQLAlchemy
types, or a query's cursor description (read by the dialect: PostgreSQL type OIDs,
MySQL field codes).
Whatever has no closer spec type (uuid, interval, arrays, blobs) is read as text.
A column the catalog declares NOT NULL is a non-nullable Arrow field (`arrow_schema`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from connectors.dialects import base
from connectors.dialects.base import STRING as _STRING
from connectors.dialects.base import Dialect
from connectors.errors import SourceError
from connectors.types import ColumnType


def from_reflected(sql_type: sa.types.TypeEngine[Any], dialect: Dialect) -> ColumnType:
    """The spec type of a reflected column (any SQLAlchemy dialect)."""
    if isinstance(sql_type, postgresql.OID):
        return ColumnType("bigint")  # as a query's description types it
    if isinstance(sql_type, sa.Boolean):
        return ColumnType("boolean")
    if isinstance(sql_type, sa.Integer):
        big = isinstance(sql_type, sa.BigInteger) or dialect.integers_64bit
        if getattr(sql_type, "unsigned", False):
            return ColumnType("decimal", 20, 0) if big else ColumnType("bigint")
        return ColumnType("bigint" if big else "integer")
    if isinstance(sql_type, sa.Float):
        return ColumnType("float")
    if isinstance(sql_type, sa.Numeric):
        return base.decimal_or_text(sql_type.precision, sql_type.scale)
    if isinstance(sql_type, sa.DateTime):
        utc = sql_type.timezone or (dialect.timestamp_is_utc and isinstance(sql_type, sa.TIMESTAMP))
        return ColumnType("timestamptz" if utc else "timestamp")
    if isinstance(sql_type, sa.Date):
        return ColumnType("date")
    if isinstance(sql_type, sa.JSON):
        return ColumnType("json")
    return _STRING


def arrow_schema(types: Mapping[str, ColumnType], not_null: Collection[str]) -> pa.Schema:
    """The batches' schema: each column's spec type in Arrow, non-nullable where NOT NULL."""
    return pa.schema([pa.field(n, t.arrow(), nullable=n not in not_null) for n, t in types.items()])


def to_batch(
    rows: Sequence[Sequence[Any]],
    schema: pa.Schema,
    types: Sequence[ColumnType],
    parsed_json: bool,
    shown: str,
) -> pa.RecordBatch:
    """Rows (as the driver returns them) as one batch of exactly `schema`."""
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(types)
    arrays = []
    for raw, field, ctype in zip(columns, schema, types, strict=True):
        dump = ctype.name == "json" and parsed_json
        values = [_text(v, dump) for v in raw] if ctype.name in ("string", "json") else raw
        try:
            arrays.append(_array(values, field.type))
        except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
            raise unfit(shown, field.name, ctype, exc) from exc
    return checked(pa.RecordBatch.from_arrays(arrays, schema=schema), shown)


def checked(batch: pa.RecordBatch, shown: str) -> pa.RecordBatch:
    """The batch, once sure that no NOT NULL column holds a NULL (Arrow does not check).

    A catalog that promises more than the database enforces (a foreign table's NOT NULL)
    must not reach a target table, or a Parquet file, as a lie.
    """
    for field, column in zip(batch.schema, batch.columns, strict=True):
        if not field.nullable and column.null_count:
            raise SourceError(
                f"{shown}: column {field.name!r} is NOT NULL in the catalog, "
                "yet the database gave a NULL",
                hint="read it through a `query` (a query's columns are read as nullable)",
            )
    return batch


def unfit(shown: str, column: str, ctype: ColumnType, exc: Exception) -> SourceError:
    """The error for a value its column's type cannot hold (NaN in a numeric(12,2), say)."""
    return SourceError(
        f"{shown}: column {column!r} holds a value that does not fit {ctype}: {exc}",
        hint="cast the column in a `query` (e.g. CAST(x AS text)) and type it in transform",
    )


def _array(values: Sequence[Any], dtype: pa.DataType) -> pa.Array[Any]:
    try:
        array: pa.Array[Any] = pa.array(values, type=dtype)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Some dialects hand a float column over as Decimal (MySQL's DOUBLE): cast, lossless.
        array = pa.array(values).cast(dtype)
    return array


def _text(value: Any, dump: bool) -> str | None:
    """A value as text: JSON the driver parsed is dumped again, bytes become \\x-hex."""
    if value is None or (isinstance(value, str) and not dump):
        return value
    if dump or isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


def bound_value(ctype: ColumnType, text: str, *, naive_utc: bool = False) -> Any:
    """An incremental bound as a Python value of the column's type; None if not comparable.

    Args:
        ctype: The cursor column's spec type.
        text: The bound as the runner gives it (ISO 8601 or digits).
        naive_utc: Give timestamps as naive UTC (MySQL stores timestamptz that way).
    """
    try:
        if ctype.name in {"integer", "bigint"}:
            return int(text)
        if ctype.name == "date":
            return date.fromisoformat(text[:10])
        if ctype.name in {"timestamp", "timestamptz"}:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is not None and (naive_utc or ctype.name == "timestamp"):
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            return moment
    except ValueError:
        return None
    return None
