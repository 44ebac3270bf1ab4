"""SQLite: a `sqlite:///path` target through the standard library's sqlite3, no SQLAlchemy.

The SQLite dialect (`connectors.dialects.sqlite`) names this target for a URL without query
options (one with them goes through SQLAlchemy and the generic loader). It holds the
driver's side: a connection that leaves transactions to dagsmith (`BEGIN IMMEDIATE` takes
the write lock up front; another writer is waited for up to sqlite3's 5 s, then the run
fails as transient, as "database is locked"), values bound as SQLAlchemy's SQLite types
stored them (`dialects.sqlite.stored`), the catalogue (`PRAGMA table_info`) and the errors.
The load's flow is `connectors.loaders.native`'s, shared with DuckDB. The run's state, a
failed run's record and the pre-flight's look at the table are here too, so a run into
SQLite never imports SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from connectors import dberrors
from connectors.dialects.sqlite import RECORD_TYPES, SQLITE, family, stored
from connectors.errors import LoadError
from connectors.loaders import records
from connectors.loaders.base import FAILED_RUNS_TABLE, STATE_TABLE, LoadJob, LoadResult
from connectors.loaders.native import NativeLoad, columns, created, quote
from connectors.loaders.prepare import (
    TargetColumn,
    nested_as_json,
    open_extract,
    split_table,
)
from connectors.types import ColumnType

_NO_CONFLICT_TARGET = "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint"


class SqliteTarget:
    """A SQLite file, reached through sqlite3 (`NativeTarget`).

    Args:
        path: The file (`:memory:` or '' for a database in memory).
        shown: Its URL for messages.
    """

    def __init__(self, path: str, shown: str) -> None:
        self._path = path or ":memory:"
        self._shown = shown

    def load(self, job: LoadJob) -> LoadResult:
        """One transaction for the tables, the rows, the rejects, the run record and the state."""
        extract = open_extract(job, SQLITE)
        if split_table(job.load.table)[0]:
            raise LoadError(
                f"{job.load.table}: SQLite has no schemas",
                hint="name the table without a schema for a SQLite target",
            )
        try:
            with self._session(f"loading {job.load.table} at {self._shown}", write=True) as con:
                result = _Load(con, job, extract).run()
        except LoadError as exc:
            if _NO_CONFLICT_TARGET not in str(exc.__cause__):
                raise
            keys = ", ".join(job.load.keys)
            raise LoadError(
                f"{job.load.table} has no primary key or unique index on exactly the upsert "
                f"keys ({keys}): nothing was loaded",
                hint=f"add one (CREATE UNIQUE INDEX ... ON {job.load.table} ({keys})), or "
                "upsert on the keys it has",
            ) from exc
        job.stats.rows_loaded = result.rows_loaded
        return result

    def columns(self, table: str) -> list[TargetColumn] | None:
        """The table's columns; None when it does not exist (or names a schema)."""
        schema, name = split_table(table)
        if schema:
            return None
        with self._session(f"pre-flight of {table} at {self._shown}") as con:
            return _described(con, name) or None

    def read_state(self, table: str, pipeline: str, stream: str) -> dict[str, str]:
        """The stream's committed state (empty before its first load)."""
        if split_table(table)[0]:
            return {}  # the load refuses the table: no state was ever stored for it
        with self._session(f"reading the watermark of {stream!r} from {self._shown}") as con:
            if not _described(con, STATE_TABLE):
                return {}
            rows = con.execute(
                f"SELECT key, value FROM {quote(STATE_TABLE)} WHERE pipeline = ? AND stream = ?",
                (pipeline, stream),
            )
            return {key: value for key, value in rows}

    def record_failure(self, row: dict[str, Any]) -> None:
        """Insert a failed attempt's record, creating its table when missing."""
        where = quote(FAILED_RUNS_TABLE)
        doing = f"recording the failed run of {row['stream']!r} at {self._shown}"
        with self._session(doing, write=True) as con:
            con.execute(created(where, records.FAILED_RUNS, RECORD_TYPES.__getitem__))
            marks = ", ".join("?" for _ in row)
            con.execute(
                f"INSERT INTO {where} ({columns(list(row))}) VALUES ({marks})",
                [stored(value, "timestamp") for value in row.values()],
            )

    @contextmanager
    def _session(self, where: str, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection (in a write transaction if asked, committed at the end); its errors
        become dagsmith errors, as the generic loader's do; `where` says what failed."""
        try:
            con = sqlite3.connect(self._path, isolation_level=None)
            try:
                if write:
                    con.execute("BEGIN IMMEDIATE")
                yield con
                if write:
                    con.execute("COMMIT")
            finally:
                con.close()  # an open transaction is rolled back
        except sqlite3.Error as exc:
            text = str(exc).strip() or type(exc).__name__
            raise dberrors.as_error(where, text, None, lost=False) from exc


def _described(con: sqlite3.Connection, name: str) -> list[TargetColumn]:
    """A table's columns as `PRAGMA table_info` declares them (none: no such table)."""
    return [
        TargetColumn(column, declared, family(declared), bool(notnull) and default is None)
        for _, column, declared, notnull, default, _ in con.execute(
            f"PRAGMA table_info({quote(name)})"
        )
    ]


class _Load(NativeLoad):
    """One load's steps, inside the transaction the target opened."""

    dialect = SQLITE
    distinct = "IS NOT"  # SQLite's own spelling, older than its IS DISTINCT FROM (3.39)

    def __init__(self, con: sqlite3.Connection, job: LoadJob, extract: Any) -> None:
        super().__init__(job, extract)
        self.con = con
        self._families: dict[str, str] | None = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.con.execute(sql, params)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def deleted(self, sql: str, params: Sequence[Any]) -> int:
        return self.con.execute(sql, params).rowcount

    def insert(self, table: str, names: list[str], batch: pa.RecordBatch) -> None:
        """executemany of the batch's rows, bound as SQLAlchemy's SQLite types bound them."""
        if self._families is None:
            self._families = {c.name: c.family for c in self._columns()}
        batch = nested_as_json(batch)
        values = [_bound(batch.column(name), self._families.get(name, "other")) for name in names]
        marks = ", ".join("?" for _ in names)
        self.con.executemany(
            f"INSERT INTO {table} ({columns(names)}) VALUES ({marks})", zip(*values, strict=True)
        )

    def described(self, schema: str | None, name: str) -> list[TargetColumn]:
        return _described(self.con, name)

    def column_type(self, ctype: ColumnType, key: bool) -> str:
        return SQLITE.column_type(ctype, key)

    def record_type(self, kind: records.Kind) -> str:
        return RECORD_TYPES[kind]

    def bound(self, value: Any) -> Any:
        return stored(value, "timestamp")


def _bound(values: pa.Array[Any] | pa.ChunkedArray[Any], column_family: str) -> list[Any]:
    """A column's values as sqlite3 binds them; times, dates and decimals as `stored` says."""
    kind = values.type
    if pa.types.is_timestamp(kind):
        # Naive UTC in microseconds (what SQLAlchemy's DATETIME keeps), and no pandas
        # Timestamp from nanoseconds.
        values = values.cast(pa.timestamp("us"), safe=False)
    elif not (pa.types.is_date(kind) or pa.types.is_decimal(kind)):
        return values.to_pylist()
    return [None if v is None else stored(v, column_family) for v in values.to_pylist()]
