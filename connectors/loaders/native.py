"""A load on a database's own driver, without SQLAlchemy: DuckDB's and SQLite's.

Both run DDL inside a transaction and have `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE`,
so one flow serves both; a subclass of `NativeLoad` says what differs (type names, the
catalogue, how an Arrow batch gets in, the driver's calls). The flow, inside the transaction
the loader opened: schema, target, rejects, runs and state; skip a run id already recorded;
delete the rows an earlier load of the same data interval appended; insert the batches
(straight into the target for a plain append or replace, else numbered into a temporary
staging table); `before_commit`; dedupe and merge; rejects, run record, state. The loader
commits: a failed or killed load leaves nothing behind, not even a table it created.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple
from typing import Any

import pyarrow as pa

from connectors.dialects import Dialect
from connectors.loaders import records
from connectors.loaders.base import RUNS_TABLE, STATE_TABLE, LoadJob, LoadResult
from connectors.loaders.prepare import (
    INTERVAL,
    SEQ,
    Extract,
    Passes,
    TargetColumn,
    counted,
    dedupe_passes,
    keyed_by_interval,
    mismatches,
    reject_null_keys,
    rejects_table,
    run_record,
    settle,
    skip_empty_replace,
    split_table,
)
from connectors.runtime import log
from connectors.types import ColumnType

STAGE, SOURCE = "_dagsmith_stage", "_dagsmith_source"
_RANK = "_dagsmith_rank"


def quote(name: str) -> str:
    """An identifier always quoted, its quotes doubled (both databases' rule), so any name
    is data, never SQL."""
    return '"' + name.replace('"', '""') + '"'


def columns(names: Sequence[str]) -> str:
    """A quoted column list."""
    return ", ".join(quote(n) for n in names)


def qualify(schema: str | None, table: str) -> str:
    """`"schema"."table"`, or `"table"`."""
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


class NativeLoad(ABC):
    """One load's steps, inside the transaction the loader opened; `run` does them all."""

    dialect: Dialect
    distinct = "IS DISTINCT FROM"
    """The operator for "differs, NULLs compared as values"."""

    def __init__(self, job: LoadJob, extract: Extract) -> None:
        self.job, self.extract = job, extract
        self.schema, self.name = split_table(job.load.table)
        self.target = qualify(self.schema, self.name)
        self.names = list(extract.types)
        self.passes: Passes = dedupe_passes(job)

    # What each database does its own way

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""

    @abstractmethod
    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a query."""

    @abstractmethod
    def deleted(self, sql: str, params: Sequence[Any]) -> int:
        """Run a DELETE; the number of rows it deleted."""

    @abstractmethod
    def insert(self, table: str, names: list[str], batch: pa.RecordBatch) -> None:
        """Insert an Arrow batch's columns `names` into `table` (quoted already)."""

    @abstractmethod
    def described(self, schema: str | None, name: str) -> list[TargetColumn]:
        """A table's columns as its catalogue spells them (none: no such table)."""

    @abstractmethod
    def column_type(self, ctype: ColumnType, key: bool) -> str:
        """The type a spec type gets when the load creates the table."""

    @abstractmethod
    def record_type(self, kind: records.Kind) -> str:
        """The type of a bookkeeping column (`records.Kind`)."""

    def bound(self, value: Any) -> Any:
        """A Python value as the driver binds it (a run record's, a watermark's time)."""
        return value

    # The flow

    def run(self) -> LoadResult:
        """DDL, then the rows and the bookkeeping; the caller commits."""
        self._ddl()
        run = self.job.run
        if self._done():
            log.info("%s: run %s is already loaded; skipping", run.stream, run.run_id)
            return LoadResult(rows_loaded=0, skipped=True)
        replaced = self._replace_interval()
        batches = self.extract.batches
        if self.job.load.mode == "upsert":
            batches = reject_null_keys(batches, self.job)
        direct = self.job.load.mode != "upsert" and not self.passes
        counts = self._direct(batches) if direct else self._staged(batches)
        return LoadResult(
            rows_loaded=counts["loaded"],
            inserted=counts["inserted"],
            updated=counts["updated"],
            unchanged=counts["loaded"] - counts["inserted"] - counts["updated"],
            deduplicated=counts["staged"] - counts["loaded"],
            rejects_written=self._bookkeeping(counts),
            replaced=replaced,
        )

    def create(self, schema: str | None, name: str, defined: Sequence[records.Column]) -> None:
        """CREATE TABLE IF NOT EXISTS for a bookkeeping table, then add the columns an older
        dagsmith's table lacks (rows_filtered)."""
        where = qualify(schema, name)
        self.execute(created(where, defined, self.record_type))
        existing = {c.name for c in self.described(schema, name)}
        for column in defined:
            if column.name not in existing:
                specified = _specified(column, self.record_type)
                self.execute(f"ALTER TABLE {where} ADD COLUMN {specified}")

    def _ddl(self) -> None:
        """Create what is missing and check the target against the extract."""
        if self.schema:
            self.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
        keys = self.job.load.keys
        defined = [
            f"{quote(n)} {self.column_type(t, n in keys)}"
            + (" NOT NULL" if n in self.extract.not_null else "")
            for n, t in self.extract.types.items()
        ]
        if keys:
            defined.append(f"PRIMARY KEY ({columns(keys)})")
        if not self.extract.columnless:
            self.execute(f"CREATE TABLE IF NOT EXISTS {self.target} ({', '.join(defined)})")
        self.create(self.schema, rejects_table(self.name, self.dialect), records.REJECTS)
        self.create(self.schema, RUNS_TABLE, records.RUNS)
        self.create(self.schema, STATE_TABLE, records.STATE)
        if self.extract.columnless:
            return
        if INTERVAL in self.extract.types and INTERVAL not in {c.name for c in self._columns()}:
            # A table made before the load keyed its rows by interval: add the key column.
            string = self.column_type(ColumnType("string"), False)
            self.execute(f"ALTER TABLE {self.target} ADD COLUMN {quote(INTERVAL)} {string}")
        settled = settle(self.extract, self._columns(), self.job, self.dialect)
        self.extract, self.names = settled.extract, list(settled.extract.types)
        for name, ctype in settled.added.items():
            self.execute(
                f"ALTER TABLE {self.target} ADD COLUMN {quote(name)} "
                f"{self.column_type(ctype, False)}"
            )
        mismatches(self.extract, self._columns(), self.job.load.table, self.dialect)

    def _columns(self) -> list[TargetColumn]:
        """The target's columns, named as the extract spells them (both databases' names
        ignore case)."""
        spelled = {n.lower(): n for n in self.names}
        return [
            TargetColumn(spelled.get(c.name.lower(), c.name), c.sql_type, c.family, c.required)
            for c in self.described(self.schema, self.name)
        ]

    def _replace_interval(self) -> int:
        """Delete the rows an earlier load of this data interval wrote; returns how many."""
        if not keyed_by_interval(self.job):
            return 0
        query = f"DELETE FROM {self.target} WHERE {quote(INTERVAL)} = ?"
        deleted = self.deleted(query, [self.job.interval])
        if deleted:
            log.info(
                "%s: replacing %d rows of interval %s",
                self.job.run.stream,
                deleted,
                self.job.interval,
            )
        return deleted

    def _done(self) -> bool:
        query = f"SELECT 1 FROM {qualify(self.schema, RUNS_TABLE)} WHERE run_id = ? "
        found = self.all(query + "AND pipeline = ? AND stream = ?", astuple(self.job.run)[:3])
        return bool(found)

    def _direct(self, batches: Iterator[pa.RecordBatch]) -> dict[str, int]:
        """Append or replace with the batches inserted straight into the target."""
        if skip_empty_replace(self.job, 0 if self.extract.empty else 1):
            self.job.before_commit()
            return {"staged": 0, "loaded": 0, "inserted": 0, "updated": 0}
        if self.job.load.mode == "replace":
            self.execute(f"DELETE FROM {self.target}")
        rows = self._insert(self.target, batches, numbered=False)
        self.job.before_commit()
        return {"staged": rows, "loaded": rows, "inserted": rows, "updated": 0}

    def _staged(self, batches: Iterator[pa.RecordBatch]) -> dict[str, int]:
        """Stage numbered rows (typed as the target's columns), then dedupe and merge."""
        self.execute(
            f"CREATE TEMP TABLE {quote(STAGE)} AS SELECT CAST(NULL AS BIGINT) AS {quote(SEQ)}, "
            f"{columns(self.names)} FROM {self.target} LIMIT 0"
        )
        staged = self._insert(quote(STAGE), batches, numbered=True)
        self.job.before_commit()
        self.execute(f"CREATE TEMP TABLE {quote(SOURCE)} AS {self._deduped()}")
        loaded = int(self.all(f"SELECT count(*) FROM {quote(SOURCE)}")[0][0])
        counts = {"staged": staged, "loaded": loaded, "inserted": loaded, "updated": 0}
        if self.job.load.mode == "upsert":
            counts["inserted"], counts["updated"] = self._upsert(loaded)
            return counts
        if skip_empty_replace(self.job, staged):
            return {**counts, "loaded": 0, "inserted": 0}
        if self.job.load.mode == "replace":
            self.execute(f"DELETE FROM {self.target}")
        self._copy(quote(SOURCE), self.target, self.names)
        return counts

    def _insert(self, table: str, batches: Iterator[pa.RecordBatch], numbered: bool) -> int:
        names = [SEQ, *self.names] if numbered else self.names
        total = [0]
        for batch in counted(batches, total, numbered):
            if batch.num_rows:
                self.insert(table, names, batch)
        return total[0]

    def _copy(self, source: str, table: str, names: list[str]) -> None:
        listed = columns(names)
        self.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {source}")

    def _deduped(self) -> str:
        """The staged rows, one per key for each (keys, keep) pass, in staging order."""
        staged = [SEQ, *self.names]
        rows = f"SELECT {columns(staged)} FROM {quote(STAGE)}"
        for keys, keep in self.passes:
            order = "DESC" if keep == "last" else "ASC"
            ranked = (
                f"SELECT {columns(staged)}, row_number() OVER (PARTITION BY {columns(keys)} "
                f"ORDER BY {quote(SEQ)} {order}) AS {quote(_RANK)} FROM ({rows})"
            )
            rows = f"SELECT {columns(staged)} FROM ({ranked}) WHERE {quote(_RANK)} = 1"
        return f"SELECT {columns(self.names)} FROM ({rows}) ORDER BY {quote(SEQ)}"

    def _upsert(self, loaded: int) -> tuple[int, int]:
        """(inserted, updated), counted before the merge, which leaves unchanged rows alone."""
        keys = self.job.load.keys
        rest = [n for n in self.names if n not in keys]
        on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in keys)
        ((found, changed),) = self.all(
            f"SELECT count(*), count(*) FILTER (WHERE {self._differs('s', 't', rest)}) "
            f"FROM {quote(SOURCE)} s JOIN {self.target} t ON {on}"
        )
        action = "DO NOTHING"
        if rest:
            sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in rest)
            action = f"DO UPDATE SET {sets} WHERE {self._differs('excluded', 't', rest)}"
        # `WHERE true`: SQLite would read `ON CONFLICT` as part of the SELECT's join.
        self.execute(
            f"INSERT INTO {self.target} AS t ({columns(self.names)}) "
            f"SELECT {columns(self.names)} FROM {quote(SOURCE)} WHERE true "
            f"ON CONFLICT ({columns(keys)}) {action}"
        )
        return loaded - int(found), int(changed)

    def _differs(self, left: str, right: str, names: list[str]) -> str:
        """True where any of the columns differs between two aliases (NULLs compare equal)."""
        pairs = [f"{left}.{quote(c)} {self.distinct} {right}.{quote(c)}" for c in names]
        return " OR ".join(pairs) or "false"

    def _bookkeeping(self, counts: dict[str, int]) -> int:
        """Rejects, run record and state, in the load's transaction; returns rejects written."""
        rejects = self.job.rejects.table()
        into = qualify(self.schema, rejects_table(self.name, self.dialect))
        for batch in rejects.to_batches():
            self.insert(into, rejects.schema.names, batch)
        record = run_record(self.job, counts)
        marks = ", ".join("?" for _ in record)
        runs = f"{qualify(self.schema, RUNS_TABLE)} ({columns(list(record))})"
        self.execute(
            f"INSERT INTO {runs} VALUES ({marks})", [self.bound(v) for v in record.values()]
        )
        run = self.job.run
        for key, value in (self.job.state or {}).items():
            self.execute(
                f"INSERT INTO {qualify(self.schema, STATE_TABLE)} "
                "(pipeline, stream, key, value, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (pipeline, stream, key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [run.pipeline, run.stream, key, value, self.bound(record["finished_at"])],
            )
        return rejects.num_rows


def created(
    where: str, defined: Sequence[records.Column], record_type: Callable[[records.Kind], str]
) -> str:
    """CREATE TABLE IF NOT EXISTS of a bookkeeping table at `where` (quoted already)."""
    specified = [_specified(c, record_type) for c in defined]
    if keys := [c.name for c in defined if c.key]:
        specified.append(f"PRIMARY KEY ({columns(keys)})")
    return f"CREATE TABLE IF NOT EXISTS {where} ({', '.join(specified)})"


def _specified(column: records.Column, record_type: Callable[[records.Kind], str]) -> str:
    default = f" DEFAULT '{column.default}'" if column.default is not None else ""
    null = "" if column.nullable else " NOT NULL"
    return f"{quote(column.name)} {record_type(column.kind)}{null}{default}"
