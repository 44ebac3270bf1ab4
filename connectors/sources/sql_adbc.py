"""PostgreSQL's fast path for `kind: sql`: ADBC streams the result into Arrow (binary COPY).

About five times faster than rows through SQLAlchemy (1M rows x 7 columns: 1.4 s, not
8 s), on the same terms: the checked query (or the table's columns) runs in a read-only
transaction, and batches have the Arrow schema that `sql_types` gives the SQLAlchemy path.
ADBC reads most types as their spec type's Arrow type, up to a widening cast; every other
type is cast by the server to the text psycopg2 would have handed over (JSON for arrays).
A table's NOT NULL columns are read from the catalog, once; a query's are all nullable
(PostgreSQL's protocol does not describe nullability). ADBC's errors propagate (as
StreamError once rows flow); `sql._errors` translates them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect

from connectors.dialects import known
from connectors.dialects.base import decimal_or_text
from connectors.dialects.postgres import POSTGRES
from connectors.runtime import Pushdown, Since, log
from connectors.sources import sql_filter, sql_query, sql_types
from connectors.spec.sql import SqlSource
from connectors.types import ColumnType

_STRING = ColumnType("string")
_NATIVE = {
    "bool": ColumnType("boolean"),
    "int2": ColumnType("integer"),
    "int4": ColumnType("integer"),
    "int8": ColumnType("bigint"),
    "float8": ColumnType("float"),
    "date": ColumnType("date"),
    "timestamp": ColumnType("timestamp"),
    "timestamptz": ColumnType("timestamptz"),
    "text": _STRING,
    "varchar": _STRING,
    "bpchar": _STRING,
    "name": _STRING,
    "json": ColumnType("json"),
    "jsonb": ColumnType("json"),
}
"""Types ADBC reads as (an extension over) their spec type's Arrow type, or one it widens to."""
_SERVER_CASTS = {
    # ADBC reads the unsigned oid as int32.
    "oid": ("{}::int8", ColumnType("bigint")),
    # Widened in binary, 0.1 would read 0.100000001490116; psycopg2 parses the text: 0.1.
    "float4": ("{}::text::float8", ColumnType("float")),
}
"""Types the server converts first, as SQL templates for the column, with their spec type."""
_NOT_NULL = (
    "SELECT a.attname FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
    "AND a.attnotnull AND c.relkind IN ('r', 'p')"
)
"""A table's NOT NULL columns. Tables only: a view has none, a foreign table's is a promise
the server does not check."""


class StreamError(Exception):
    """The server failed the query while ADBC streamed its rows (reported with no SQLSTATE)."""


def handles(url: sa.URL) -> bool:
    """Whether the fast path reads this URL: PostgreSQL through a libpq-based driver."""
    dialect = known(url)
    return dialect is not None and url.get_driver_name() in dialect.arrow_drivers


def libpq_uri(url: sa.URL, connect_timeout: int) -> str:
    """The URL as libpq reads it. It holds the password: never log it, never show it."""
    query = {"connect_timeout": str(connect_timeout), **url.query}
    return POSTGRES.libpq_url(url).set(query=query).render_as_string(hide_password=False)


def read(
    spec: SqlSource,
    url: sa.URL,
    batch_rows: int,
    connect_timeout: int,
    since: Since | None = None,
    pushdown: Pushdown | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream a table or a query's rows as batches of at most `batch_rows` rows.

    An incremental bound becomes `WHERE cursor > CAST($1 AS its type)`, and a pushed-down
    filter's values are cast the same way: bound, never pasted.
    """
    with _session(libpq_uri(url, connect_timeout)) as cur:
        source, fields = _described(spec, cur)
        plans = [_plan(field) for field in fields]
        types = [ctype for _, ctype in plans]
        schema = pa.schema(
            [pa.field(f.name, t.arrow(), f.nullable) for f, t in zip(fields, types, strict=True)]
        )
        sql = _select(spec, source, fields, [cast for cast, _ in plans])
        names = [f.name for f in fields]
        pushed = sql_filter.where(
            pushdown,
            {n: sa.column(n) for n in names},
            dict(zip(names, types, strict=True)),
            sql_filter.text_bind,
        )
        clauses = [c for c in (_since(fields, since), pushed) if c is not None]
        params: tuple[Any, ...] | None = None
        if clauses:
            sql, params = _compiled(sql, clauses)
        if pushed is not None:
            log.info("%s: filter pushed into the query: %s", spec.shown, sql)
        cur.execute(sql, params)
        empty = True
        # ADBC sizes its batches in bytes (about 16 MB): slices (no copy) bound the rows.
        for batch in _stream(cur):
            converted = _converted(batch, schema, types, spec.shown)
            for offset in range(0, batch.num_rows, batch_rows):
                empty = False
                yield converted.slice(offset, batch_rows)
        if empty:
            yield pa.RecordBatch.from_pylist([], schema=schema)


@contextmanager
def _session(uri: str) -> Iterator[adbc.Cursor]:
    """A cursor in a read-only transaction, on a connection of its own (closing rolls back)."""
    with adbc.connect(uri) as conn, conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        yield cur


def _stream(cur: adbc.Cursor) -> Iterator[pa.RecordBatch]:
    """The result's batches; past `execute`, Arrow's reader carries the server's errors."""
    try:
        yield from cur.fetch_record_batch()
    except (OSError, pa.ArrowException) as exc:
        raise StreamError(str(exc)) from exc


def _described(spec: SqlSource, cur: adbc.Cursor) -> tuple[str, list[pa.Field[pa.DataType]]]:
    """What to select from (a quoted table, or the checked query), and its columns' fields,
    non-nullable where a table's column is NOT NULL."""
    if spec.table:
        table = ".".join(_quote(part) for part in spec.table.split("."))
        by_name = {f.name: f for f in cur.adbc_execute_schema(f"SELECT * FROM {table}")}
        not_null = _not_null(cur, table)
        selected = sql_query.selected_columns(spec, list(by_name))
        return table, [by_name[c].with_nullable(c not in not_null) for c in selected]
    query = sql_query.checked_query(spec, POSTGRES.sqlglot)
    fields = [f.with_nullable(True) for f in cur.adbc_execute_schema(query)]
    sql_query.check_unique_names(spec, [f.name for f in fields])
    return query, fields


def _not_null(cur: adbc.Cursor, table: str) -> frozenset[str]:
    """The NOT NULL columns of a table (quoted, as the SELECT names it)."""
    cur.execute(_NOT_NULL, (table,))
    return frozenset(str(name) for (name,) in cur.fetchall())


def _plan(field: pa.Field[pa.DataType]) -> tuple[str | None, ColumnType]:
    """How the server casts a column (a SQL template, or None), and the column's spec type."""
    metadata = field.metadata or {}
    typname = metadata.get(b"POSTGRESQL:type", b"").decode()
    if typname == "numeric":
        return None, _numeric(int(metadata.get(b"POSTGRESQL:typmod", b"-1")))
    if typname in _NATIVE:
        return None, _NATIVE[typname]
    if typname in _SERVER_CASTS:
        return _SERVER_CASTS[typname]
    return ("to_jsonb({})::text" if typname.startswith("_") else "{}::text"), _STRING


_NUMBERED = PGDialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
"""PostgreSQL as SQLAlchemy renders it for ADBC: parameters are $1, $2, ..."""
_COMPARABLE = {"int2", "int4", "int8", "date", "timestamp", "timestamptz"}


def _since(fields: Sequence[pa.Field[pa.DataType]], since: Since | None) -> sa.TextClause | None:
    """The filter past an incremental bound, for cursors of a type PostgreSQL can compare."""
    field = next((f for f in fields if since is not None and f.name == since.column), None)
    if since is None or field is None:
        return None
    typname = (field.metadata or {}).get(b"POSTGRESQL:type", b"").decode()
    if typname not in _COMPARABLE:
        return None
    # typname comes from PostgreSQL's own catalog and is one of _COMPARABLE: safe to name.
    return sa.text(f"{_quote(field.name)} > CAST(:since AS {typname})").bindparams(
        since=since.value
    )


def _compiled(sql: str, clauses: list[Any]) -> tuple[str, tuple[Any, ...]]:
    """`sql` wrapped in a SELECT with `clauses` as its WHERE, and its parameters in order."""
    outer: sa.Select[Any] = (
        sa.select(sa.literal_column("*"))
        .select_from(sql_query.as_text(f"({sql}) AS dagsmith_s"))
        .where(*clauses)
    )
    compiled = outer.compile(dialect=_NUMBERED)
    return str(compiled), tuple(compiled.params[name] for name in compiled.positiontup or ())


def _numeric(typmod: int) -> ColumnType:
    """numeric(p,s) from its typmod: ((p << 16) | s) + 4, s an 11-bit signed number."""
    if typmod < 0:
        return _STRING
    precision, scale = (typmod - 4) >> 16, (((typmod - 4) & 0x7FF) ^ 1024) - 1024
    return decimal_or_text(precision, scale)


def _select(
    spec: SqlSource,
    source: str,
    fields: Sequence[pa.Field[pa.DataType]],
    casts: Sequence[str | None],
) -> str:
    """The statement that runs: a checked query with no cast to make runs as it is."""
    if spec.query and not any(casts):
        return source
    columns = ", ".join(
        f"{cast.format(_quote(f.name))} AS {_quote(f.name)}" if cast else _quote(f.name)
        for f, cast in zip(fields, casts, strict=True)
    )
    return f"SELECT {columns} FROM " + (source if spec.table else f"({source}) AS dagsmith_q")


def _converted(
    batch: pa.RecordBatch, schema: pa.Schema, types: Sequence[ColumnType], shown: str
) -> pa.RecordBatch:
    """A batch as ADBC reads it, cast to the spec types' Arrow types."""
    arrays = []
    for read, field, ctype in zip(batch.columns, schema, types, strict=True):
        column = read.storage if isinstance(read, pa.ExtensionArray) else read
        try:
            arrays.append(column if column.type == field.type else column.cast(field.type))
        except pa.ArrowException as exc:
            raise sql_types.unfit(shown, field.name, ctype, exc) from exc
    return sql_types.checked(pa.RecordBatch.from_arrays(arrays, schema=schema), shown)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
