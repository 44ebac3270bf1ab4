"""DuckDB: the embedded default target (`.dagsmith/warehouse.duckdb`), and any `duckdb:///path`.

The DuckDB dialect (`connectors.dialects.duckdb`: URL scheme, which errors are transient)
names this loader; it holds the rest: the driver (the `duckdb` package, natively: DuckDB
scans each Arrow batch in place, with no row-by-row path), the identifier rules (quoted
as in PostgreSQL, but equal when they differ only in case) and DuckDB's type names. The
flow, one transaction for everything, DDL included, is `connectors.loaders.native`'s,
which SQLite's loader shares.

A DuckDB file has one writing process at a time: a load waits up to `LOCK_WAIT`
seconds for the lock (another stream's load, an open `duckdb` shell), saying which process
holds it, then fails as transient, so Airflow retries it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from connectors.dialects.duckdb import DUCKDB
from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import records, waits
from connectors.loaders.base import LoadJob, LoadResult
from connectors.loaders.native import NativeLoad, columns, qualify, quote
from connectors.loaders.prepare import Extract, TargetColumn, open_extract
from connectors.runtime import log
from connectors.types import ColumnType

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["DuckDBLoader", "browse_hint", "column_type", "columns", "qualify", "quote"]

LOCK_WAIT = 60.0
"""Seconds a load waits for another process to release the file."""
_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
"""The holder, as DuckDB's lock error names it."""
BATCH = "_dagsmith_batch"
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
_RECORD_TYPES: dict[records.Kind, str] = {
    "key": "VARCHAR(255)",
    "mode": "VARCHAR(16)",
    "bigint": "BIGINT",
    "text": "TEXT",
    "time": "TIMESTAMP WITH TIME ZONE",
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
            con = _connect(self._path, self._config, job.run.stream)
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


def _connect(path: str, config: dict[str, str], stream: str) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting (with jittered backoff) while another process holds its lock,
    and saying so after `waits.FIRST` seconds, then every `waits.EVERY`."""
    started = time.monotonic()
    due = [waits.FIRST]

    def say(attempt: RetryCallState) -> None:
        waited = time.monotonic() - started
        if waited < due[0] or attempt.outcome is None:
            return
        due[0] = waited + waits.EVERY
        holder = _HOLDER.search(str(attempt.outcome.exception()))
        who = f"process {holder['pid']} ({holder['program']})" if holder else "another process"
        log.warning("%s: waiting %d s for the lock on %s, held by %s", stream, waited, path, who)

    waiting = Retrying(
        retry=retry_if_exception(DUCKDB.is_transient_error),
        wait=wait_random_exponential(multiplier=0.05, max=2),
        stop=stop_after_delay(LOCK_WAIT),
        before_sleep=say,
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


class _Load(NativeLoad):
    """One load's steps, inside the transaction the loader opened."""

    dialect = DUCKDB

    def __init__(self, con: duckdb.DuckDBPyConnection, job: LoadJob, extract: Extract) -> None:
        super().__init__(job, extract)
        self.con = con

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, list(params))

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def deleted(self, sql: str, params: Sequence[Any]) -> int:
        # DuckDB answers a DELETE with the number of rows it deleted.
        ((count,),) = self.all(sql, params)
        return int(count)

    def insert(self, table: str, names: list[str], batch: pa.RecordBatch) -> None:
        """DuckDB scans the batch in place; casts are DuckDB's own."""
        self.con.register(BATCH, batch)
        listed = columns(names)
        self.execute(f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {quote(BATCH)}")
        self.con.unregister(BATCH)

    def described(self, schema: str | None, name: str) -> list[TargetColumn]:
        exists = self.all(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema or DUCKDB.default_schema, name],
        )
        if not exists:
            return []
        return [
            TargetColumn(
                column,
                sql_type,
                next((f for p, f in _FAMILIES if re.fullmatch(p, sql_type)), "other"),
                null == "NO" and default is None,
            )
            for column, sql_type, null, _, default, *_ in self.all(
                f"DESCRIBE {qualify(schema, name)}"
            )
        ]

    def column_type(self, ctype: ColumnType, key: bool) -> str:
        return column_type(ctype)

    def record_type(self, kind: records.Kind) -> str:
        return _RECORD_TYPES[kind]
