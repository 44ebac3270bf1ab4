"""SQL databases (`kind: sql`): a table or one checked SELECT, streamed in Arrow batches.

PostgreSQL (through a libpq driver) is read by ADBC, straight into Arrow (`sql_adbc`).
Other databases' rows come through a server-side cursor (psycopg2 named cursor, PyMySQL
SSCursor). Either way memory holds a batch, not the result, and a table's NOT NULL
columns are non-nullable fields of the batches' schema (a query's never are). Every read
runs in a read-only transaction where the database has one, on top of the query check:
defence in depth. Driver errors, ADBC's included, are translated in one place, `_errors`,
and never carry the connection's password.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import adbc_driver_manager
import pyarrow as pa
import sqlalchemy as sa

from connectors import dberrors
from connectors.connections import env_var, lookup, to_sqlalchemy_url
from connectors.dialects import Dialect, dialect_for
from connectors.errors import DagsmithError, SourceError, SourceUnavailable
from connectors.runtime import Pushdown, ReadContext, Since, log
from connectors.sources import sql_adbc, sql_filter, sql_query, sql_types
from connectors.spec.sources import SourceSpec
from connectors.spec.sql import SqlSource
from connectors.types import ColumnType

CONNECT_TIMEOUT = 15
"""Seconds to wait for a server to answer before calling it unavailable."""

_HINTS = (
    (
        ("28P01", "28000", 1045, "authentication", "access denied", 'role "'),
        "check the user and password of the connection",
    ),
    (("3D000", 1049, 'database "', "unknown database"), "check the connection's database"),
    (
        ("42P01", 1146, "no such table", "does not exist"),
        "check the table's name and schema (names with capitals are case-sensitive)",
    ),
    (("42703", 1054, "no such column", "unknown column"), "check the column names"),
    (("42601", 1064, "syntax"), "fix the query's syntax"),
)
_ADBC_PREFIX = re.compile(r"^(?:[A-Z_]+: )?\[libpq\] (?:Execution error \[\w+\]: )?(?:ERROR:\s+)?")


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream a table or a query's rows as batches of at most `ctx.batch_rows` rows."""
    if not isinstance(spec, SqlSource):
        raise TypeError(f"the sql reader cannot read a {spec.kind!r} source")
    url = _url(spec, ctx)
    # A query's own WHERE is the user's to write: a filter is pushed into a table's SELECT.
    pushdown = ctx.where if spec.table else None
    if sql_adbc.handles(url):
        batches = sql_adbc.read(spec, url, ctx.batch_rows, CONNECT_TIMEOUT, ctx.since, pushdown)
    else:
        batches = _read_rows(spec, url, ctx.batch_rows, ctx.since, pushdown)
    with _errors(spec, url):
        yield from batches


def _read_rows(
    spec: SqlSource, url: sa.URL, batch_rows: int, since: Since | None, pushdown: Pushdown | None
) -> Iterator[pa.RecordBatch]:
    """Rows through SQLAlchemy's server-side cursor, converted batch by batch.

    An incremental bound is pushed into a table's SELECT; a query's rows are filtered by
    the runner instead (wrapping arbitrary SQL to bind a parameter is not worth the risk).
    A table's NOT NULL columns come from its reflection, the one catalog lookup of the
    read; a query's columns are all nullable, whatever the cursor's description says:
    MariaDB describes a column of `GROUP BY ... WITH ROLLUP` as NOT NULL, then gives its
    total row a NULL there, and psycopg2 describes no column's nullability at all.
    """
    with _connect(url) as conn:
        dialect = dialect_for(conn)
        stream = conn.execution_options(stream_results=True)
        if spec.table:
            select, types = _table_select(spec, conn)
            not_null = _not_null(select)
            result = stream.execute(_narrowed(spec, select, types, since, pushdown, dialect))
        else:
            result = stream.execute(
                sql_query.as_text(sql_query.checked_query(spec, dialect.sqlglot))
            )
            types = _described(spec, result, dialect)
            not_null = frozenset()
        schema = sql_types.arrow_schema(types, not_null)
        parsed_json = spec.table is not None or dialect.query_json_parsed
        empty = True
        for rows in result.yield_per(batch_rows).partitions():
            empty = False
            yield sql_types.to_batch(rows, schema, list(types.values()), parsed_json, spec.shown)
        if empty:
            yield pa.RecordBatch.from_pylist([], schema=schema)


def column_types(spec: SqlSource, ctx: ReadContext) -> dict[str, ColumnType]:
    """The source's columns and their spec types, found without reading any row."""
    url = _url(spec, ctx)
    with _errors(spec, url), _connect(url) as conn:
        if spec.table:
            return _table_select(spec, conn)[1]
        dialect = dialect_for(conn)
        sql = sql_query.checked_query(spec, dialect.sqlglot)
        sql = sql_query.describe_query(sql, dialect.sqlglot)
        return _described(spec, conn.execute(sql_query.as_text(sql)), dialect)


def _url(spec: SqlSource, ctx: ReadContext) -> sa.URL:
    return to_sqlalchemy_url(lookup(spec.connection, ctx.project_dir), spec.connection)


@contextmanager
def _connect(url: sa.URL) -> Iterator[sa.Connection]:
    """One connection of its own (no pool: session settings must not outlive the read)."""
    timeout = dialect_for(url).connect_timeout_args.get(url.get_driver_name())
    args = {timeout: CONNECT_TIMEOUT} if timeout and timeout not in url.query else {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            dialect = dialect_for(conn)
            statements = dialect.read_only
            if statements is None:
                log.info("%s: no read-only transaction for this database", dialect.label)
            for statement in statements or []:
                conn.execute(sa.text(statement))
            yield conn
    finally:
        engine.dispose()


def _table_select(
    spec: SqlSource, conn: sa.Connection
) -> tuple[sa.Select[tuple[object, ...]], dict[str, ColumnType]]:
    """SELECT the spec's columns from the reflected table: quoted by the dialect, typed by it."""
    assert spec.table is not None
    schema, _, name = spec.table.rpartition(".")
    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
    wanted = sql_query.selected_columns(spec, list(table.columns.keys()))
    dialect = dialect_for(conn)
    types = {c: sql_types.from_reflected(table.columns[c].type, dialect) for c in wanted}
    return sa.select(*(table.columns[c] for c in wanted)), types


def _not_null(select: sa.Select[tuple[object, ...]]) -> frozenset[str]:
    """The selected columns that the reflected table declares NOT NULL."""
    columns = select.selected_columns
    return frozenset(c.name for c in columns if isinstance(c, sa.Column) and not c.nullable)


def _narrowed(
    spec: SqlSource,
    select: sa.Select[tuple[object, ...]],
    types: dict[str, ColumnType],
    since: Since | None,
    pushdown: Pushdown | None,
    dialect: Dialect,
) -> sa.Select[tuple[object, ...]]:
    """A table's SELECT past the incremental bound, with the pushed-down filter."""
    select = _since(select, types, since, dialect)
    columns = {name: select.selected_columns[name] for name in types}
    pushed = sql_filter.where(pushdown, columns, types)
    if pushed is None:
        return select
    select = select.where(pushed)
    log.info("%s: filter pushed into the query: %s", spec.shown, select)
    return select


def _since(
    select: sa.Select[tuple[object, ...]],
    types: dict[str, ColumnType],
    since: Since | None,
    dialect: Dialect,
) -> sa.Select[tuple[object, ...]]:
    """The SELECT restricted to rows past an incremental bound, bound as a typed parameter."""
    if since is None or since.column not in types:
        return select
    value = sql_types.bound_value(types[since.column], since.value, naive_utc=dialect.naive_utc)
    if value is None:
        return select
    return select.where(select.selected_columns[since.column] > value)


def _described(
    spec: SqlSource, result: sa.CursorResult[tuple[object, ...]], dialect: Dialect
) -> dict[str, ColumnType]:
    description = result.cursor.description or []
    sql_query.check_unique_names(spec, [column[0] for column in description])
    return {c[0]: dialect.described_type(c) for c in description}


@contextmanager
def _errors(spec: SqlSource, url: sa.URL) -> Iterator[None]:
    """Translate SQLAlchemy, DB-API and ADBC errors: transient ones to SourceUnavailable."""
    try:
        yield
    except sa.exc.NoSuchTableError:
        raise SourceError(
            f"{spec.shown}: the table does not exist (or the user cannot see it)",
            hint="check the table's name and schema (names with capitals are case-sensitive)",
        ) from None
    except sa.exc.DBAPIError as exc:
        orig = exc.orig
        text = next(iter(str(orig).strip().splitlines()), type(orig).__name__)
        code = dberrors.driver_code(orig)
        raise _translated(spec, url, text, code, exc.connection_invalidated) from exc
    except (adbc_driver_manager.Error, sql_adbc.StreamError) as exc:
        raise _translated(spec, url, _adbc_text(exc), getattr(exc, "sqlstate", None)) from exc
    except sa.exc.SQLAlchemyError as exc:
        text = _scrub(str(exc).splitlines()[0], url)
        raise SourceError(
            f"{spec.shown}: {text}", hint=f"check {env_var(spec.connection)}"
        ) from exc


def _translated(
    spec: SqlSource, url: sa.URL, text: str, code: str | int | None, invalidated: bool = False
) -> DagsmithError:
    text = _scrub(text, url)
    message = f"{spec.shown}: {text}"
    diagnosis = dberrors.diagnose(code, text, lost=invalidated)
    if diagnosis.transient:
        return SourceUnavailable(message, hint=diagnosis.hint, code=code)
    hint = _hint(code, text.lower())
    hint = f"{hint}; {dberrors.NOT_RETRIED}" if hint else diagnosis.hint or dberrors.NOT_RETRIED
    return SourceError(message, hint=hint, code=code)


def _adbc_text(exc: Exception) -> str:
    """The server's own message, else ADBC's first line (which names no query, no URI)."""
    # Typed with str keys, but the driver's keys are bytes.
    details: dict[object, bytes] = dict(getattr(exc, "details", None) or [])
    primary = details.get(b"PG_DIAG_MESSAGE_PRIMARY", b"").decode(errors="replace")
    first = next(iter(str(exc).strip().splitlines()), type(exc).__name__)
    return primary or _ADBC_PREFIX.sub("", first)


def _hint(code: str | int | None, lowered: str) -> str | None:
    for keys, hint in _HINTS:
        if code in keys or any(isinstance(k, str) and k.lower() in lowered for k in keys):
            return hint
    return None


def _scrub(text: str, url: sa.URL) -> str:
    """A driver message without the password, should a driver ever echo it."""
    return text.replace(url.password, "***") if url.password else text
