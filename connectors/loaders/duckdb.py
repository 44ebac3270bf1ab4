"""DuckDB: the embedded default target (`.dagsmith/warehouse.duckdb`), and any `duckdb:///path`.

The DuckDB dialect (`connectors.dialects.duckdb`: URL scheme, which errors are transient)
names this loader; it holds the rest: the driver (the `duckdb` package, natively: DuckDB
scans each Arrow batch in place, with no row-by-row path), the identifier rules (quoted
as in PostgreSQL, but equal when they differ only in case), DuckDB's type names, and the
upsert.

Flow: one transaction for everything, DDL included (DuckDB's DDL is transactional):
schema, target, rejects, runs and state; skip a run id already recorded; insert the
batches (straight into the target for a plain append or replace, else numbered into a
temporary staging table); `before_commit`; dedupe and merge with `INSERT ... ON
CONFLICT ... DO UPDATE ... WHERE ... IS DISTINCT FROM`; rejects, run record, state;
commit. A failed or killed load leaves nothing behind, not even a table it created.

A DuckDB file has one writing process at a time: a load waits up to `LOCK_WAIT`
seconds for the lock (another stream's load, an open `duckdb` shell), then fails as
transient, so Airflow retries it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.base import PGDialect
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from connectors.dialects.duckdb import DUCKDB
from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import tables
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
    open_extract,
    reject_null_keys,
    rejects_table,
    run_record,
    settle,
    skip_empty_replace,
    split_table,
)
from connectors.runtime import log
from connectors.types import ColumnType

LOCK_WAIT = 60.0
"""Seconds a load waits for another process to release the file."""
STAGE, SOURCE, BATCH = "_dagsmith_stage", "_dagsmith_source", "_dagsmith_batch"
# DuckDB reads PostgreSQL's quoting and type names (duckdb-engine's dialect is PostgreSQL's);
# with DuckDB's own paramstyle, a `%` in a name stays single.
_PG = PGDialect(paramstyle="qmark")  # type: ignore[no-untyped-call]
_TYPES = {
    "string": "VARCHAR",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPTZ",
    "json": "JSON",
}
_FAMILIES = (
    (r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)", "int"),
    (r"DECIMAL\(.*", "numeric"),
    (r"FLOAT|DOUBLE", "float"),
    (r"VARCHAR", "text"),
    (r"BOOLEAN", "bool"),
    (r"DATE", "date"),
    (r"TIMESTAMP.*", "timestamp"),
    (r"JSON", "json"),
)


def column_type(ctype: ColumnType) -> str:
    """The DuckDB type a spec type gets when dagsmith creates the table."""
    if ctype.name == "decimal":
        return f"DECIMAL({ctype.precision}, {ctype.scale})"
    return _TYPES[ctype.name]


def quote(name: str) -> str:
    """Always-quoted identifier (quotes doubled), so any name is data, never SQL."""
    return str(_PG.identifier_preparer.quote_identifier(name))


def columns(names: list[str]) -> str:
    """A quoted column list."""
    return ", ".join(quote(n) for n in names)


def qualify(schema: str | None, table: str) -> str:
    """`"schema"."table"`, or `"table"`."""
    return f"{quote(schema)}.{quote(table)}" if schema else quote(table)


def browse_hint(database: str) -> str:
    """How a user looks at the rows of a DuckDB file, shown after a run."""
    path = os.path.relpath(database) if Path(database).is_relative_to(Path.cwd()) else database
    return (
        f"look at the rows: duckdb {path}   (or in Python: "
        f"duckdb.connect({path!r}).sql('SHOW ALL TABLES'))"
    )


class DuckDBLoader:
    """Loads into a DuckDB file through the native driver, from Arrow.

    Args:
        url: `duckdb:///relative/path.duckdb` or `duckdb:////absolute/path.duckdb`; query
            options become DuckDB settings.
    """

    def __init__(self, url: sa.URL) -> None:
        self._path = url.database or ":memory:"
        self._config = {key: str(value) for key, value in url.query.items()}

    def load(self, job: LoadJob) -> LoadResult:
        """One transaction for the tables, the rows, the rejects, the run record and the state."""
        extract = open_extract(job, DUCKDB)
        _check_names(job, extract)
        with self._errors(job.load.table):
            con = _connect(self._path, self._config)
            try:
                con.execute("SET SESSION TimeZone = 'UTC'")  # naive timestamps are UTC
                con.begin()
                result = _Load(con, job, extract).run()
                con.commit()
            finally:
                con.close()  # an open transaction is rolled back
        job.stats.rows_loaded = result.rows_loaded
        return result

    @contextmanager
    def _errors(self, table: str) -> Iterator[None]:
        """The one place where DuckDB's errors become dagsmith errors."""
        try:
            yield
        except duckdb.Error as exc:
            where = f"loading {table} into {self._path} failed: {exc}"
            if DUCKDB.is_transient_error(exc):
                hint = "another process has the file open (a load, a duckdb shell): retry"
                raise TargetUnavailable(where, hint=hint) from exc
            if "conflict target" in str(exc):
                raise LoadError(
                    f"{table} has no primary key or unique index on exactly the upsert keys",
                    hint="add one (ALTER TABLE ... ADD PRIMARY KEY), or upsert on the keys it has",
                ) from exc
            hint = "check the rows and the table's columns and constraints"
            raise LoadError(where, hint=hint) from exc


def _connect(path: str, config: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting (with jittered backoff) while another process holds its lock."""
    waiting = Retrying(
        retry=retry_if_exception(DUCKDB.is_transient_error),
        wait=wait_random_exponential(multiplier=0.05, max=2),
        stop=stop_after_delay(LOCK_WAIT),
        reraise=True,
    )
    return waiting(duckdb.connect, path, config=dict(config))


def _check_names(job: LoadJob, extract: Extract) -> None:
    """DuckDB's names are case-insensitive, quoted or not: `Id` and `id` are one column."""
    seen: dict[str, str] = {}
    for name in extract.types:
        if (other := seen.setdefault(name.lower(), name)) != name:
            raise LoadError(
                f"{job.load.table}: columns {other!r} and {name!r} differ only in case, "
                "and DuckDB takes them for one column",
                hint="rename one of them in transform.rename",
            )


class _Load:
    """One load's steps, inside the transaction the loader opened."""

    def __init__(self, con: duckdb.DuckDBPyConnection, job: LoadJob, extract: Extract) -> None:
        self.con, self.job, self.extract = con, job, extract
        self.schema, self.name = split_table(job.load.table)
        self.target = qualify(self.schema, self.name)
        self.names = list(extract.types)
        self.passes: Passes = dedupe_passes(job)

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

    def _ddl(self) -> None:
        """Create what is missing and check the target against the extract."""
        if self.schema:
            self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
        defined = [
            f"{quote(n)} {column_type(t)}" + (" NOT NULL" if n in self.extract.not_null else "")
            for n, t in self.extract.types.items()
        ]
        if keys := self.job.load.keys:
            defined.append(f"PRIMARY KEY ({columns(keys)})")
        if not self.extract.columnless:
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {self.target} ({', '.join(defined)})")
        metadata = tables.new_metadata(DUCKDB.name)
        for table in (
            tables.rejects_table(metadata, self.schema, rejects_table(self.name, DUCKDB)),
            tables.runs_table(metadata, self.schema),
            tables.state_table(metadata, self.schema),
        ):
            self.con.execute(_create(table))
            self._add_missing(table)
        if INTERVAL in self.extract.types:
            # A table made before the load keyed its rows by interval: add the key column.
            self.con.execute(
                f"ALTER TABLE {self.target} ADD COLUMN IF NOT EXISTS {quote(INTERVAL)} VARCHAR"
            )
        if not self.extract.columnless:
            settled = settle(self.extract, self._columns(), self.job)
            self.extract, self.names = settled.extract, list(settled.extract.types)
            for name, ctype in settled.added.items():
                self.con.execute(
                    f"ALTER TABLE {self.target} ADD COLUMN {quote(name)} {column_type(ctype)}"
                )
            mismatches(self.extract, self._columns(), self.job.load.table)

    def _add_missing(self, table: sa.Table) -> None:
        """Add the columns a bookkeeping table of an older dagsmith lacks (rows_filtered)."""
        where = qualify(table.schema, table.name)
        existing = {row[0] for row in self._all(f"DESCRIBE {where}")}
        for column in table.columns:
            if column.name not in existing:
                default = column.server_default.arg if column.server_default else None  # type: ignore[attr-defined]
                self.con.execute(
                    f"ALTER TABLE {where} ADD COLUMN {quote(column.name)} "
                    f"{column.type.compile(dialect=_PG)}"
                    + (f" DEFAULT {int(default)}" if default is not None else "")
                )

    def _columns(self) -> list[TargetColumn]:
        """The target's columns, named as the extract spells them (DuckDB ignores case)."""
        spelled = {n.lower(): n for n in self.names}
        return [
            TargetColumn(
                spelled.get(name.lower(), name),
                sql_type,
                next((f for p, f in _FAMILIES if re.fullmatch(p, sql_type)), "other"),
                null == "NO" and default is None,
            )
            for name, sql_type, null, _, default, *_ in self._all(f"DESCRIBE {self.target}")
        ]

    def _replace_interval(self) -> int:
        """Delete the rows an earlier load of this data interval wrote; returns how many."""
        if not keyed_by_interval(self.job):
            return 0
        # DuckDB answers a DELETE with the number of rows it deleted.
        query = f"DELETE FROM {self.target} WHERE {quote(INTERVAL)} = ?"
        ((deleted,),) = self._all(query, self.job.interval)
        if deleted:
            log.info(
                "%s: replacing %d rows of interval %s",
                self.job.run.stream,
                deleted,
                self.job.interval,
            )
        return int(deleted)

    def _done(self) -> bool:
        run = self.job.run
        query = f"SELECT 1 FROM {qualify(self.schema, RUNS_TABLE)} WHERE run_id = ? "
        found = self._all(query + "AND pipeline = ? AND stream = ?", *astuple(run)[:3])
        return bool(found)

    def _direct(self, batches: Iterator[pa.RecordBatch]) -> dict[str, int]:
        """Append or replace with the batches inserted straight into the target."""
        if skip_empty_replace(self.job, 0 if self.extract.empty else 1):
            self.job.before_commit()
            return {"staged": 0, "loaded": 0, "inserted": 0, "updated": 0}
        if self.job.load.mode == "replace":
            self.con.execute(f"DELETE FROM {self.target}")
        rows = self._insert(self.target, batches, numbered=False)
        self.job.before_commit()
        return {"staged": rows, "loaded": rows, "inserted": rows, "updated": 0}

    def _staged(self, batches: Iterator[pa.RecordBatch]) -> dict[str, int]:
        """Stage numbered rows (typed as the target's columns), then dedupe and merge."""
        self.con.execute(
            f"CREATE TEMP TABLE {quote(STAGE)} AS SELECT CAST(NULL AS BIGINT) AS {quote(SEQ)}, "
            f"{columns(self.names)} FROM {self.target} LIMIT 0"
        )
        staged = self._insert(quote(STAGE), batches, numbered=True)
        self.job.before_commit()
        self.con.execute(f"CREATE TEMP TABLE {quote(SOURCE)} AS {self._deduped()}")
        loaded = int(self._all(f"SELECT count(*) FROM {quote(SOURCE)}")[0][0])
        counts = {"staged": staged, "loaded": loaded, "inserted": loaded, "updated": 0}
        if self.job.load.mode == "upsert":
            counts["inserted"], counts["updated"] = self._upsert(loaded)
            return counts
        if skip_empty_replace(self.job, staged):
            return {**counts, "loaded": 0, "inserted": 0}
        if self.job.load.mode == "replace":
            self.con.execute(f"DELETE FROM {self.target}")
        self._copy(quote(SOURCE), self.target, self.names)
        return counts

    def _insert(self, table: str, batches: Iterator[pa.RecordBatch], numbered: bool) -> int:
        """Insert each batch as DuckDB scans it from Arrow; casts are DuckDB's own."""
        names = [SEQ, *self.names] if numbered else self.names
        total = [0]
        for batch in counted(batches, total, numbered):
            if batch.num_rows:
                self.con.register(BATCH, batch)
                self._copy(quote(BATCH), table, names)
                self.con.unregister(BATCH)
        return total[0]

    def _copy(self, source: str, table: str, names: list[str]) -> None:
        listed = columns(names)
        self.con.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {source}")

    def _deduped(self) -> str:
        """The staged rows, one per key for each (keys, keep) pass, in staging order."""
        rows = f"SELECT * FROM {quote(STAGE)}"
        for keys, keep in self.passes:
            order = "DESC" if keep == "last" else "ASC"
            rows = (
                f"SELECT * FROM ({rows}) QUALIFY row_number() OVER "
                f"(PARTITION BY {columns(keys)} ORDER BY {quote(SEQ)} {order}) = 1"
            )
        return f"SELECT {columns(self.names)} FROM ({rows}) ORDER BY {quote(SEQ)}"

    def _upsert(self, loaded: int) -> tuple[int, int]:
        """(inserted, updated), counted before the merge, which leaves unchanged rows alone."""
        keys = self.job.load.keys
        rest = [n for n in self.names if n not in keys]
        on = " AND ".join(f"s.{quote(k)} = t.{quote(k)}" for k in keys)
        ((found, changed),) = self._all(
            f"SELECT count(*), count(*) FILTER (WHERE {_differs('s', 't', rest)}) "
            f"FROM {quote(SOURCE)} s JOIN {self.target} t ON {on}"
        )
        action = "DO NOTHING"
        if rest:
            sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in rest)
            action = f"DO UPDATE SET {sets} WHERE {_differs('excluded', 't', rest)}"
        self.con.execute(
            f"INSERT INTO {self.target} AS t ({columns(self.names)}) "
            f"SELECT {columns(self.names)} FROM {quote(SOURCE)} "
            f"ON CONFLICT ({columns(keys)}) {action}"
        )
        return loaded - int(found), int(changed)

    def _bookkeeping(self, counts: dict[str, int]) -> int:
        """Rejects, run record and state, in the load's transaction; returns rejects written."""
        rejects = self.job.rejects.table()
        if rejects.num_rows:
            self.con.register(BATCH, rejects)
            into = qualify(self.schema, rejects_table(self.name, DUCKDB))
            self._copy(quote(BATCH), into, rejects.schema.names)
            self.con.unregister(BATCH)
        record = run_record(self.job, counts)
        marks = ", ".join("?" for _ in record)
        runs = f"{qualify(self.schema, RUNS_TABLE)} ({columns(list(record))})"
        self.con.execute(f"INSERT INTO {runs} VALUES ({marks})", list(record.values()))
        run = self.job.run
        for key, value in (self.job.state or {}).items():
            self.con.execute(
                f"INSERT INTO {qualify(self.schema, STATE_TABLE)} "
                "(pipeline, stream, key, value, updated_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (pipeline, stream, key) "
                "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [run.pipeline, run.stream, key, value, record["finished_at"]],
            )
        return rejects.num_rows

    def _all(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        """Every row of a query (a result left unread would hold the connection)."""
        return self.con.execute(query, list(params)).fetchall()


def _differs(left: str, right: str, names: list[str]) -> str:
    """True where any of the columns differs between two aliases (NULLs compare equal)."""
    pairs = [f"{left}.{quote(c)} IS DISTINCT FROM {right}.{quote(c)}" for c in names]
    return " OR ".join(pairs) or "false"


def _create(table: sa.Table) -> str:
    """CREATE TABLE IF NOT EXISTS for a bookkeeping table defined in `tables`."""
    defined = [
        f"{quote(c.name)} {c.type.compile(dialect=_PG)}" + ("" if c.nullable else " NOT NULL")
        for c in table.columns
    ]
    if keys := [c.name for c in table.primary_key]:
        defined.append(f"PRIMARY KEY ({columns(keys)})")
    return f"CREATE TABLE IF NOT EXISTS {qualify(table.schema, table.name)} ({', '.join(defined)})"
