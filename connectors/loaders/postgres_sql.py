"""PostgreSQL statements of a load: catalog, COPY types, staging, merge.

Every identifier goes through the dialect's `quote_identifier`; values are bound or
copied, never pasted. Column types come from the catalog (`format_type`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
from sqlalchemy.dialects.postgresql.base import PGDialect

from connectors.errors import LoadError
from connectors.loaders.prepare import SEQ, TargetColumn

STAGE = "_dagsmith_stage"
# A paramstyle without `%`: compiled DDL runs as-is, so `%` in a name must stay single.
DIALECT = PGDialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
_PREPARER = DIALECT.identifier_preparer

TARGET_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''
FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
UNIQUE_KEYS = """
SELECT i.indexrelid::int8, a.attname
FROM pg_index i
JOIN pg_attribute a
  ON a.attrelid = i.indrelid AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])
WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indisvalid
  AND i.indpred IS NULL AND i.indexprs IS NULL
"""
UPSERT_TARGET = """
SELECT current_setting('server_version_num')::int >= 150000
         AND c.relkind IN ('r', 'p') AND NOT c.relhasrules,
       c.relkind = 'p',
       current_setting('track_counts')::boolean
FROM pg_class c WHERE c.oid = to_regclass($1)
"""
"""Whether the server can MERGE into the table (15+; not a foreign table nor one with rules),
whether the table is partitioned, and whether the server keeps row counters (`WRITTEN`)."""
WRITTEN = """
WITH target AS (SELECT to_regclass($1) AS oid)
SELECT sum(pg_stat_get_xact_tuples_inserted(oid))::int8,
       sum(pg_stat_get_xact_tuples_updated(oid))::int8
FROM (SELECT oid FROM target UNION SELECT relid FROM target, pg_partition_tree(oid)) AS t
"""
"""Rows inserted into and updated in a table (its partitions summed) by this session since
its counters were last sent to the server, which is never inside a transaction: the
difference across a statement is what it wrote."""
# A MERGE probes the target's key index once per staged row, as ON CONFLICT does: a hash or
# merge join would read the whole target for every chunk.
INDEX_PROBES = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
ANY_JOIN = "RESET enable_hashjoin; RESET enable_mergejoin"

_FAMILIES = (
    (r"smallint|integer|bigint", "int"),
    (r"numeric.*", "numeric"),
    (r"real|double precision", "float"),
    (r"text|character varying.*|character.*", "text"),
    (r"boolean", "bool"),
    (r"date", "date"),
    (r"timestamp.*", "timestamp"),
    (r"jsonb?", "json"),
)
_COPY_TYPES: dict[str, pa.DataType] = {
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
    "timestamp with time zone": pa.timestamp("us", tz="UTC"),
}
_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
_DECIMAL_DIGITS = 38  # decimal128's precision
_EXACT = re.compile(
    r"smallint|integer|bigint|text|character varying|date|timestamp with(out)? time zone"
)


def quote(name: str) -> str:
    """Always-quoted identifier (quotes doubled), so any name is data, never SQL."""
    return str(_PREPARER.quote_identifier(name))


def qualify(schema: str | None, table: str) -> str:
    """`"schema"."table"`, or `"table"`."""
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def target_column(name: str, sql_type: str, required: bool) -> TargetColumn:
    """A catalog row as a TargetColumn."""
    family = next((f for pattern, f in _FAMILIES if re.fullmatch(pattern, sql_type)), "other")
    return TargetColumn(name, sql_type, family, required)


def copy_type(column: TargetColumn) -> pa.DataType | None:
    """The Arrow type binary COPY writes into this column, or None: stage as text, then cast.

    Binary COPY writes each value in its column's own binary form, so numerics get an
    exact decimal128 (never a float; wider than its 38 digits, text), and json, uuid and
    other types go through text.
    """
    if column.family == "text":
        return pa.string()
    if match := _NUMERIC.fullmatch(column.sql_type):
        precision, scale = int(match.group(1)), int(match.group(2))
        return pa.decimal128(precision, scale) if precision <= _DECIMAL_DIGITS else None
    return _COPY_TYPES.get(column.sql_type.split("(")[0].strip())


@dataclass(frozen=True)
class Plan:
    """How the extract's columns reach the target: Arrow type on the wire, SQL type after."""

    table: str
    columns: list[TargetColumn]
    wire: dict[str, pa.DataType | None]
    merge_into: bool = False
    """Whether an upsert merges with MERGE (`merge_into_sql`) rather than ON CONFLICT."""
    partitioned: bool = False
    """A partitioned target cannot return `xmax`: the row counters count an upsert."""

    @property
    def direct_ok(self) -> bool:
        """True when every column can be copied straight into the target."""
        return all(t is not None for t in self.wire.values())

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Cast each column to its wire type; a value that does not fit names its column."""
        arrays = []
        for name, array in zip(batch.schema.names, batch.columns, strict=True):
            wanted = self.wire[name] or pa.string()
            try:
                arrays.append(array if array.type == wanted else array.cast(wanted))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                column = next(c for c in self.columns if c.name == name)
                raise LoadError(
                    f"{self.table}, column {name!r}: a value does not fit {column.sql_type}: {exc}",
                    hint="widen the column or fix the value in the transform",
                ) from exc
        return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)

    def stage_ddl(self, with_seq: bool, table: str | None = None) -> str:
        """CREATE TABLE for staging: wire types, text where a cast follows.

        A temporary table dropped at commit, or with `table` (qualified), an unlogged one.
        """
        by_name = {c.name: c for c in self.columns}
        columns = [
            f"{quote(n)} {by_name[n].sql_type if t is not None else 'text'}"
            for n, t in self.wire.items()
        ]
        if with_seq:
            columns.append(f"{quote(SEQ)} bigint")
        if table is not None:
            return f"CREATE UNLOGGED TABLE {table} ({', '.join(columns)})"
        return f"CREATE TEMP TABLE {quote(STAGE)} ({', '.join(columns)}) ON COMMIT DROP"

    def wire_schema(self, with_seq: bool) -> pa.Schema:
        """What COPY sends: the wire types, and the staging order when a dedupe may follow."""
        fields = [(n, t or pa.string()) for n, t in self.wire.items()]
        return pa.schema([*fields, (SEQ, pa.int64())] if with_seq else fields)

    def exact(self, name: str) -> bool:
        """True when values that PostgreSQL finds equal in this column are equal in Arrow.

        Not so for text cast on arrival (uuid, json), padded or bounded characters, or
        floats (-0.0 = 0.0): staged keys are then only known unique after a dedupe pass.
        """
        column = next(c for c in self.columns if c.name == name)
        return self.wire[name] is not None and bool(_EXACT.fullmatch(column.sql_type))

    def value(self, name: str, alias: str = "s") -> str:
        """A staged column, cast to its target type if it was staged as text."""
        if self.wire[name] is not None:
            return f"{alias}.{quote(name)}"
        column = next(c for c in self.columns if c.name == name)
        return f"CAST({alias}.{quote(name)} AS {column.sql_type})"

    def select_list(self) -> str:
        """The staged columns, cast to their target types where they were staged as text."""
        return ", ".join(self.value(n) for n in self.wire)


def deduped(plan: Plan, dedupes: Iterable[tuple[list[str], str]], source: str) -> str:
    """The rows of `source`, one per key for each (keys, keep) in turn, by staging order.

    Keys compare in their target type: two spellings of one uuid are one key.
    """
    sql = f"SELECT * FROM {source}"
    for keys, keep in dedupes:
        columns = ", ".join(plan.value(k, "d") for k in keys)
        order = "DESC" if keep == "last" else "ASC"
        sql = (
            f"SELECT DISTINCT ON ({columns}) * FROM ({sql}) AS d "
            f"ORDER BY {columns}, d.{quote(SEQ)} {order}"
        )
    return sql


def insert_sql(plan: Plan, target: str, source: str) -> str:
    """Insert every source row (`source`: a table or a parenthesised query)."""
    names = ", ".join(quote(n) for n in plan.wire)
    return f"INSERT INTO {target} ({names}) SELECT {plan.select_list()} FROM {source} AS s"


def upsert_sql(plan: Plan, target: str, source: str, keys: list[str], counted: bool) -> str:
    """Merge the source rows on the keys; `counted`: returns one row, (inserted, updated).

    A row equal to the target's is left alone: not rewritten, not counted.
    """
    names = ", ".join(quote(n) for n in plan.wire)
    rest = [quote(n) for n in plan.wire if n not in keys]
    action = "DO NOTHING"
    if rest:
        sets = ", ".join(f"{n} = EXCLUDED.{n}" for n in rest)
        mine = ", ".join(f"t.{n}" for n in rest)
        theirs = ", ".join(f"EXCLUDED.{n}" for n in rest)
        action = f"DO UPDATE SET {sets} WHERE ROW({mine}) IS DISTINCT FROM ROW({theirs})"
    sql = (
        f"INSERT INTO {target} AS t ({names}) "
        f"SELECT {plan.select_list()} FROM {source} AS s "
        f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) {action}"
    )
    if not counted:
        return sql
    return (
        f"WITH m AS ({sql} RETURNING (t.xmax = 0) AS ins) "
        "SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM m"
    )


def merge_into_sql(plan: Plan, target: str, source: str, keys: list[str]) -> str:
    """`upsert_sql` as a MERGE (PostgreSQL 15+), which reads an unchanged row where ON
    CONFLICT locks it first (a lock written into the row and the WAL). Count what it wrote
    with `WRITTEN`.
    """
    names = ", ".join(quote(n) for n in plan.wire)
    on = " AND ".join(f"t.{quote(k)} = {plan.value(k)}" for k in keys)
    rest = [n for n in plan.wire if n not in keys]
    matched = ""
    if rest:
        mine = ", ".join(f"t.{quote(n)}" for n in rest)
        theirs = ", ".join(plan.value(n) for n in rest)
        sets = ", ".join(f"{quote(n)} = {plan.value(n)}" for n in rest)
        matched = (
            f"WHEN MATCHED AND ROW({mine}) IS DISTINCT FROM ROW({theirs}) THEN UPDATE SET {sets} "
        )
    return (
        f"MERGE INTO {target} AS t USING {source} AS s ON {on} {matched}"
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({plan.select_list()})"
    )
