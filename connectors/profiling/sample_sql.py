"""Samples of SQL tables that cost the same on a thousand rows or fifty million.

The row count comes from the catalogue's statistics (PostgreSQL's `reltuples`, MySQL's
`information_schema.tables`), marked as estimated, and is counted exactly only on small
tables. A large table is sampled where the dialect has a way without a scan
(PostgreSQL's `TABLESAMPLE SYSTEM`: whole pages picked at random, no sort); other
databases give their head. Every statement runs through the SQL source's reader, so it
gets the same checks and read-only transaction.
"""

from __future__ import annotations

import pyarrow as pa

from connectors import kinds, sources
from connectors.connections import lookup, to_sqlalchemy_url
from connectors.dialects import Dialect, dialect_for
from connectors.errors import SourceError
from connectors.profiling.model import Count
from connectors.runtime import ReadContext
from connectors.spec.sources import SourceSpec
from connectors.spec.sql import SqlSource

EXACT_BELOW = 1_000_000
"""Tables estimated smaller than this are counted exactly (a count is cheap there)."""


def take(spec: SqlSource, ctx: ReadContext, rows: int, full: bool) -> tuple[pa.Table, Count, str]:
    """A sample of a table or query, the row count, and the sampling method."""
    if spec.table is None or full:
        table, exhausted = head(spec, ctx, None if full else rows)
        count = Count(table.num_rows, False) if exhausted else Count(None, True)
        return table, count, "full" if exhausted else "head"
    backend = to_sqlalchemy_url(lookup(spec.connection, ctx.project_dir), spec.connection)
    dialect = dialect_for(backend)
    count = _count(spec, ctx, dialect)
    if count.value is not None and count.value <= rows:
        table, _ = head(spec, ctx, None)
        return table, Count(table.num_rows, False), "full"
    percent = min(100.0, 150.0 * rows / count.value) if count.value else 0.0
    sql = dialect.sample(_columns(spec, dialect), dialect.quoted(spec.table), percent)
    if sql is not None and count.value:
        sampled = _run(spec, ctx, sql, rows)
        if sampled.num_rows >= rows // 10:
            return sampled, count, "tablesample"
    table, _ = head(spec, ctx, rows)
    return table, count, "head"


def _count(spec: SqlSource, ctx: ReadContext, dialect: Dialect) -> Count:
    estimate = _estimate(spec, ctx, dialect)
    if estimate is not None and estimate >= EXACT_BELOW:
        return Count(estimate, estimated=True)
    assert spec.table is not None
    exact = _run(spec, ctx, f"SELECT count(*) AS n FROM {dialect.quoted(spec.table)}", 1)
    return Count(int(exact.column(0)[0].as_py()), estimated=False)


def _estimate(spec: SqlSource, ctx: ReadContext, dialect: Dialect) -> int | None:
    assert spec.table is not None
    schema, _, name = spec.table.rpartition(".")
    sql = dialect.row_estimate(schema, name, dialect.quoted(spec.table))
    if sql is None:
        return None
    found = _run(spec, ctx, sql, 1)
    value = found.column(0)[0].as_py() if found.num_rows else None
    return int(value) if value is not None and int(value) >= 0 else None


def head(spec: SourceSpec, ctx: ReadContext, limit: int | None) -> tuple[pa.Table, bool]:
    """The first `limit` rows of any source (all if None), and whether it ended before."""
    batches: list[pa.RecordBatch] = []
    taken = 0
    reader = sources.read(spec, ctx)
    try:
        for batch in reader:
            batches.append(batch)
            taken += batch.num_rows
            if limit is not None and taken > limit:
                return pa.Table.from_batches(batches).slice(0, limit), False
    finally:
        close = getattr(reader, "close", None)
        if close is not None:
            close()  # stops a database cursor or an open file at once
    if not batches:  # a quiet topic or feed gives no batch at all
        raise SourceError(
            f"{kinds.kind_of(spec).label(spec)}: nothing to sample: no record arrived while "
            "it was read",
            hint="profile it again once it holds records, or write the spec by hand "
            "(docs/sources.md)",
        )
    return pa.Table.from_batches(batches), True


def _run(spec: SqlSource, ctx: ReadContext, sql: str, limit: int) -> pa.Table:
    query = SqlSource(kind="sql", connection=spec.connection, query=sql)
    return head(query, ctx, limit)[0]


def _columns(spec: SqlSource, dialect: Dialect) -> str:
    """The spec's columns quoted for the dialect (they are checked identifiers), or `*`."""
    return ", ".join(dialect.quoted(c) for c in spec.columns) if spec.columns else "*"
