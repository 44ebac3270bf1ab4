"""What every loader does to a job before it touches a database: peek, type, check, filter."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.dialects.base import REJECTS_SUFFIX, Dialect
from connectors.errors import LoadError
from connectors.incremental import shown_watermark
from connectors.loaders.base import LoadJob
from connectors.runtime import log
from connectors.transforms.arrow import int_range
from connectors.transforms.casting import cast_column
from connectors.transforms.validate import Failure, failure_reasons
from connectors.types import ColumnType

SEQ = "_dagsmith_seq"
"""Staging-order column, so dedupe can keep the first or the last row of a key."""
INTERVAL = "_dagsmith_interval"
"""Column of an append target holding the data interval that loaded each row."""
Passes = list[tuple[list[str], str]]
"""Dedupe passes: (keys, keep) each, applied in turn."""

_HELD_AS = {
    "int": "bigint",
    "numeric": "decimal(38,9)",
    "float": "float",
    "text": "string",
    "bool": "boolean",
    "date": "date",
    "json": "json",
}
"""Target type family -> the spec type its values are cast to (`type_change: reject_rows`)."""


@dataclass(frozen=True)
class Extract:
    """The job's stream, peeked: its columns, their types, whether it holds any row, and
    which columns a table made for it declares NOT NULL."""

    schema: pa.Schema
    types: dict[str, ColumnType]
    batches: Iterator[pa.RecordBatch]
    empty: bool
    not_null: frozenset[str] = frozenset()

    @property
    def columnless(self) -> bool:
        """Nothing was read from a source that cannot tell its columns without rows (an
        empty topic or API reply): there is nothing to write, and no table to make."""
        return self.empty and not self.types


@dataclass(frozen=True)
class TargetColumn:
    """A column of an existing target table, as its catalog describes it."""

    name: str
    sql_type: str
    family: str
    required: bool


def open_extract(job: LoadJob, dialect: Dialect) -> Extract:
    """Peek at the stream until its first non-empty batch, without losing any batch; its
    column names are checked against the target dialect's identifier rules."""
    seen: list[pa.RecordBatch] = []
    for batch in job.batches:
        seen.append(batch)
        if batch.num_rows:
            break
    schema = seen[0].schema if seen else _declared_schema(job)
    types = {f.name: job.declared.get(f.name) or ColumnType.from_arrow(f.type) for f in schema}
    _check_names(job, schema, dialect)
    empty = not seen or seen[-1].num_rows == 0
    # The keys, the spec's `required` and what the source itself declares never null.
    not_null = {*job.load.keys, *job.required, *(f.name for f in schema if not f.nullable)}
    batches: Iterator[pa.RecordBatch] = itertools.chain(seen, job.batches)
    if keyed_by_interval(job):
        schema = schema.append(pa.field(INTERVAL, pa.string()))
        types[INTERVAL] = ColumnType("string")
        batches = _stamped(batches, str(job.interval))
    return Extract(schema, types, batches, empty, frozenset(not_null & set(types)))


def keyed_by_interval(job: LoadJob) -> bool:
    """True for an append with a data interval: its rows are replaced when it runs again."""
    return job.interval is not None and job.load.mode == "append"


def _stamped(batches: Iterator[pa.RecordBatch], interval: str) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield batch.append_column(INTERVAL, pa.array([interval] * batch.num_rows, pa.string()))


def _declared_schema(job: LoadJob) -> pa.Schema:
    if not job.declared:
        raise LoadError(f"{job.load.table}: the extract has no batch and the spec declares no type")
    return pa.schema([(name, t.arrow()) for name, t in job.declared.items()])


def _check_names(job: LoadJob, schema: pa.Schema, dialect: Dialect) -> None:
    names = set(schema.names)
    if len(names) != len(schema.names):
        raise LoadError(f"{job.load.table}: the extract has two columns of the same name")
    if INTERVAL in names and keyed_by_interval(job):
        raise LoadError(f"{job.load.table}: column {INTERVAL!r} is dagsmith's own: rename it")
    long = [n for n in names if not dialect.identifier_fits(n)]
    if long:
        raise LoadError(
            f"{job.load.table}: column name(s) longer than {dialect.identifier_limit()}: "
            f"{', '.join(sorted(long))}",
            hint="databases truncate such names (two could collide): rename them in transform",
        )
    wanted = {*job.load.keys, *(job.dedupe.keys if job.dedupe else [])}
    if names and (missing := sorted(wanted - names)):
        raise LoadError(f"{job.load.table}: key column(s) not in the extract: {', '.join(missing)}")


@dataclass(frozen=True)
class Settled:
    """An extract and an existing table, reconciled by the stream's contract."""

    extract: Extract
    """The extract to load: without the new columns the contract ignores."""
    added: dict[str, ColumnType]
    """New columns the contract adds to the table (nullable), in the extract's order."""


def settle(extract: Extract, target: list[TargetColumn], job: LoadJob, dialect: Dialect) -> Settled:
    """Apply the stream's contract to a table that exists (`target`, its columns).

    Raises:
        LoadError: The table has columns the extract lacks and the contract says fail.
    """
    contract, table = job.contract, job.load.table
    if not target or extract.columnless:
        return Settled(extract, {})
    have = {c.name: c for c in target}
    missing = [name for name in have if name not in {*extract.types, INTERVAL}]
    if missing and contract.missing_columns == "fail":
        raise LoadError(
            f"table {table} has column(s) the extract does not: {', '.join(missing)}",
            hint="set the stream's contract: {missing_columns: null} to load them as NULL",
        )
    changed: dict[str, ColumnType] = {}
    if contract.type_change == "reject_rows":
        changed = {
            name: held
            for name, ctype in extract.types.items()
            if name in have
            and not dialect.holds(ctype, have[name].family)
            and (held := _held_as(have[name])) is not None
        }
        extract = _recast(extract, changed, job) if changed else extract
    new = [name for name in extract.types if name not in have and name != INTERVAL]
    ignored = new if contract.new_columns == "ignore" else []
    added = new if contract.new_columns == "add" else []
    drift = {"added": added, "ignored": ignored, "missing": missing, "retyped": list(changed)}
    job.drift = {kind: names for kind, names in drift.items() if names}
    if ignored:
        log.info("%s: new column(s) not loaded (contract): %s", table, ", ".join(new))
        return Settled(_without(extract, new), {})
    if added:
        log.info("%s: adding the new column(s) (contract): %s", table, ", ".join(new))
        return Settled(extract, {name: extract.types[name] for name in new})
    return Settled(extract, {})


def _held_as(column: TargetColumn) -> ColumnType | None:
    """The spec type of the values a table's column holds; None for a type dagsmith does
    not cast to (a value of it cannot be told good or bad here)."""
    if column.family == "timestamp":
        zoned = "zone" in column.sql_type.lower() or column.sql_type.lower() == "timestamptz"
        return ColumnType("timestamptz" if zoned else "timestamp")
    name = _HELD_AS.get(column.family)
    return ColumnType.parse(name) if name else None


def _recast(extract: Extract, changed: dict[str, ColumnType], job: LoadJob) -> Extract:
    """The extract with `changed` columns cast to the table's types, rows whose value does
    not cast going to the rejects (the contract's `type_change: reject_rows`)."""
    log.info(
        "%s: column(s) cast to the table's type, rows that do not fit rejected (contract): %s",
        job.load.table,
        ", ".join(f"{name} as {ctype}" for name, ctype in changed.items()),
    )
    schema = pa.schema(
        [
            pa.field(f.name, changed[f.name].arrow()) if f.name in changed else f
            for f in extract.schema
        ]
    )
    batches = (_cast_rows(batch, changed, job) for batch in extract.batches)
    return replace(extract, schema=schema, types={**extract.types, **changed}, batches=batches)


def _cast_rows(
    batch: pa.RecordBatch, changed: dict[str, ColumnType], job: LoadJob
) -> pa.RecordBatch:
    failures = []
    cast_batch = batch
    for name, ctype in changed.items():
        cast = cast_column(batch.column(name), ctype)
        failures += [Failure(name, p.mask, p.message, batch.column(name)) for p in cast.problems]
        cast_batch = cast_batch.set_column(batch.schema.get_field_index(name), name, cast.values)
    if not failures:
        return cast_batch
    # The rows are the transform's output, protected already (`transform.protect`): the
    # values quoted are the ones that would have been loaded.
    reasons = failure_reasons(failures, frozenset())
    rows = sorted(reasons)
    raw = batch.take(pa.array(rows)).to_pylist()
    job.rejects.add(
        "contract", [reasons[row] for row in rows], raw, [None] * len(rows), protected=True
    )
    bad = np.zeros(batch.num_rows, dtype=bool)
    bad[rows] = True
    return cast_batch.filter(pa.array(~bad))


def _without(extract: Extract, names: list[str]) -> Extract:
    gone = set(names)
    return replace(
        extract,
        schema=pa.schema([f for f in extract.schema if f.name not in gone]),
        types={name: ctype for name, ctype in extract.types.items() if name not in gone},
        batches=(batch.drop_columns(names) for batch in extract.batches),
        not_null=extract.not_null - gone,
    )


def mismatches(extract: Extract, target: list[TargetColumn], table: str, dialect: Dialect) -> None:
    """Raise a LoadError listing every way the extract does not fit an existing table."""
    problems = type_problems(extract.types, target, dialect)
    problems += [
        f"column {c.name!r} is NOT NULL without a default and the extract does not have it"
        for c in target
        if c.required and c.name not in extract.types and not extract.empty
    ]
    if problems:
        raise LoadError(
            f"table {table} does not match the extract: " + "; ".join(problems),
            hint="set the stream's contract: {new_columns: add} (or ignore) for new columns, "
            "{type_change: reject_rows} for changed types; or alter the table, or change the "
            "spec's types",
        )


def type_problems(
    types: dict[str, ColumnType], target: list[TargetColumn], dialect: Dialect
) -> list[str]:
    """Each column of `types` that the table lacks or whose type cannot hold it."""
    by_name = {c.name: c for c in target}
    problems = []
    for name, ctype in types.items():
        column = by_name.get(name)
        if column is None:
            problems.append(f"column {name!r} ({ctype}) is missing from the table")
        elif not dialect.holds(ctype, column.family):
            problems.append(f"column {name!r} is {column.sql_type} in the table, {ctype} here")
    return problems


def nested_as_json(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Turn struct/list/map columns into JSON text, the form every target stores them in.

    A source's JSON text (Arrow's `json` type) is passed on as written, keys in their order.
    """
    columns = [
        pa.array([None if v is None else json.dumps(v, default=str) for v in col.to_pylist()])
        if pa.types.is_nested(col.type)
        else col.cast(pa.string())
        if isinstance(col.type, pa.JsonType)
        else col
        for col in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def reject_null_keys(batches: Iterator[pa.RecordBatch], job: LoadJob) -> Iterator[pa.RecordBatch]:
    """Drop rows whose upsert key holds a NULL into the rejects: such a key never conflicts."""
    keys = job.load.keys
    for batch in batches:
        masks = [pc.is_null(batch.column(k)) for k in keys]
        bad = masks[0]
        for mask in masks[1:]:
            bad = pc.or_(bad, mask)
        if not pc.any(bad).as_py():
            yield batch
            continue
        rejected = batch.filter(bad).to_pylist()
        reasons = [
            f"key {', '.join(k for k in keys if row[k] is None)} is null" for row in rejected
        ]
        job.rejects.add("key", reasons, rejected, [None] * len(rejected), protected=True)
        yield batch.filter(pc.invert(bad))


def dedupe_passes(job: LoadJob) -> Passes:
    """(keys, keep) dedupe passes over the staged rows, in order.

    An upsert needs unique keys (PostgreSQL: "cannot affect row a second time"), so it
    keeps the last row of each key unless the spec's dedupe already made them unique.
    """
    passes: Passes = [(list(job.dedupe.keys), job.dedupe.keep)] if job.dedupe else []
    unique = job.dedupe is not None and set(job.dedupe.keys) <= set(job.load.keys)
    if job.load.mode == "upsert" and not unique:
        passes.append((job.load.keys, "last"))
    return passes


class SortedKey:
    """Watches one key column as the batches go by, for proof that it holds no duplicate.

    The proof holds while each batch's keys are distinct and above the previous batch's
    highest: true of a source read in key order (a table dump, an id-ordered export),
    whose dedupe passes on that key can then be skipped. Costs a min/max and a distinct
    count per batch, and no memory.

    Args:
        column: The key column, or None to prove nothing.
    """

    def __init__(self, column: str | None) -> None:
        self.column = column
        self.unique = column is not None
        self._highest: Any = None

    def watch(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The batches, unchanged, checked on the way."""
        for batch in batches:
            if self.unique and self.column is not None and batch.num_rows:
                self._check(batch.column(self.column))
            yield batch

    def needed(self, passes: Passes) -> Passes:
        """The dedupe passes left once the proof is in: those not keyed on the column."""
        return [p for p in passes if not (self.unique and self.column in p[0])]

    def _check(self, keys: pa.Array[Any]) -> None:
        bounds = pc.min_max(keys)
        lowest, highest = bounds["min"].as_py(), bounds["max"].as_py()
        above = self._highest is None or lowest > self._highest
        distinct = pc.count_distinct(keys).as_py() == len(keys) and not keys.null_count
        self.unique = above and distinct
        self._highest = highest


def run_record(job: LoadJob, counts: dict[str, int]) -> dict[str, Any]:
    """The row of `_dagsmith_runs` for this load."""
    after = {**job.stored_state, **(job.state or {})}
    return {
        "run_id": job.run.run_id,
        "pipeline": job.run.pipeline,
        "stream": job.run.stream,
        "target_table": job.load.table,
        "mode": job.load.mode,
        "started_at": job.run.started_at,
        "finished_at": datetime.now(UTC),
        "rows_read": job.stats.rows_read,
        "rows_rejected": job.stats.rows_rejected,
        "rows_filtered": job.stats.rows_filtered,
        "rows_loaded": counts["loaded"],
        "inserted": counts["inserted"],
        "updated": counts["updated"],
        "watermark_before": shown_watermark(job.stored_state),
        "watermark_after": shown_watermark(after),
        "schema_drift": json.dumps(job.drift) if job.drift else None,
    }


def skip_empty_replace(job: LoadJob, rows: int) -> bool:
    """True (with a warning) when a replace would empty the table and the spec did not ask."""
    if job.load.mode != "replace" or rows or job.load.allow_empty_replace:
        return False
    log.warning(
        "%s: the extract is empty; %s keeps its rows (set allow_empty_replace to empty it)",
        job.run.stream,
        job.load.table,
    )
    return True


def utc_naive(value: datetime) -> datetime:
    """A naive UTC datetime (naive input is taken as UTC already)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def split_table(name: str) -> tuple[str | None, str]:
    """`schema.table` -> (schema, table); `table` -> (None, table)."""
    schema, _, table = name.rpartition(".")
    return schema or None, table


def rejects_table(table: str, dialect: Dialect) -> str:
    """`<table>__rejects`, refused when the database would truncate it."""
    name = f"{table}{REJECTS_SUFFIX}"
    if not dialect.identifier_fits(name):
        limit = dialect.identifier_limit()
        shorter = (dialect.max_identifier or 0) - len(REJECTS_SUFFIX)
        raise LoadError(
            f"table name {table!r} is too long for its rejects table {name!r} ({limit} at most)",
            hint=f"use a table name of at most {shorter} characters",
        )
    return name


def counted(
    batches: Iterator[pa.RecordBatch], total: list[int], numbered: bool
) -> Iterator[pa.RecordBatch]:
    """The batches, counted into `total`; numbered in staging order if asked."""
    for batch in batches:
        start, total[0] = total[0], total[0] + batch.num_rows
        if not numbered:
            yield batch
            continue
        yield batch.append_column(SEQ, int_range(start, total[0]))
