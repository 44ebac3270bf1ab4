"""PostgreSQL connections for loading: ADBC (binary COPY from Arrow) or psycopg2 (CSV COPY).

Each session translates its driver's errors in one place: `errors()`. SQL uses `$n`
placeholders; values that reach SQL are bound, identifiers are quoted by the caller.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from connectors import dberrors
from connectors.dialects.postgres import POSTGRES
from connectors.errors import DagsmithError, LoadError, TargetUnavailable
from connectors.loaders.postgres_sql import qualify, quote

_HINTS = {
    "23": "fix the offending rows in the transform, or relax the table's constraint",
    "22": "check the column's type in the spec against the table",
    "42P10": "the table needs a primary key or unique index on exactly the upsert keys",
}


class PgSession(Protocol):
    """One connection, one open transaction at a time.

    `savepoints` says whether a failed statement can be rolled back to a savepoint and the
    transaction go on (psycopg2); ADBC refuses every statement after an error.
    """

    savepoints: bool

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return its rows (none for DDL)."""
        ...

    def execute(self, sql: str) -> int:
        """Run a statement and return how many rows it wrote."""
        ...

    def copy(
        self,
        schema: str | None,
        table: str,
        arrow_schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        temporary: bool = False,
    ) -> None:
        """COPY the batches into a table (of the session's temporary schema if asked)."""
        ...

    def commit(self) -> None:
        """Commit the open transaction."""
        ...

    def close(self) -> None:
        """Close the connection (an open transaction rolls back)."""
        ...


def translate(
    exc: Exception, sqlstate: str | None, column: str | None, where: str, text: str = ""
) -> DagsmithError:
    """A driver error as a LoadError (terminal) or TargetUnavailable (transient).

    The error keeps its SQLSTATE as `code`, so a deadlock can be told from the rest.
    """
    full = str(exc).strip()
    text = text or _fatal(full) or next(iter(full.splitlines()), type(exc).__name__)
    at = f", column {column!r}" if column else ""
    message = f"loading {where}{at} failed: {text}"
    lost = sqlstate is None and "OperationalError" in type(exc).__name__
    diagnosis = dberrors.diagnose(sqlstate, text, lost=lost)
    if diagnosis.transient:
        return TargetUnavailable(message, hint=diagnosis.hint, code=sqlstate)
    hint = _HINTS.get(sqlstate or "") or _HINTS.get((sqlstate or "")[:2])
    return LoadError(message, hint=diagnosis.hint or hint or dberrors.NOT_RETRIED, code=sqlstate)


def _fatal(text: str) -> str | None:
    """libpq's `FATAL:` line (the server's reason for refusing a connection), if any."""
    found = re.search(r"FATAL:\s+(.+)", text)
    return found.group(1).strip() if found else None


class AdbcSession:
    """ADBC's PostgreSQL driver: `adbc_ingest` streams Arrow batches as binary COPY."""

    savepoints = False

    def __init__(self, url: sa.URL, where: str) -> None:
        import adbc_driver_postgresql.dbapi as adbc

        self._where = where
        uri = POSTGRES.libpq_url(url).render_as_string(hide_password=False)
        with self.errors():
            self._conn = adbc.connect(uri)
            self._cur = self._conn.cursor()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Translate ADBC's errors; the column comes from the server's diagnostics."""
        import adbc_driver_manager

        try:
            yield
        except adbc_driver_manager.Error as exc:
            details = dict(getattr(exc, "details", None) or [])
            column = details.get(b"PG_DIAG_COLUMN_NAME", b"").decode() or None
            text = details.get(b"PG_DIAG_MESSAGE_PRIMARY", b"").decode()
            raise translate(exc, exc.sqlstate, column, self._where, text) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return its rows."""
        with self.errors():
            self._cur.execute(sql, parameters=params or None)
            return list(self._cur.fetchall()) if self._cur.description else []

    def execute(self, sql: str) -> int:
        """Run a statement and return how many rows it wrote."""
        with self.errors():
            self._cur.execute(sql)
            return int(self._cur.rowcount)

    def copy(
        self,
        schema: str | None,
        table: str,
        arrow_schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        temporary: bool = False,
    ) -> None:
        """Binary COPY, streamed: the reader pulls one batch at a time."""
        failures: list[Exception] = []

        def remember() -> Iterator[pa.RecordBatch]:
            try:
                yield from batches
            except Exception as exc:
                failures.append(exc)
                raise

        reader = pa.RecordBatchReader.from_batches(arrow_schema, remember())
        with self.errors():
            try:
                self._cur.adbc_ingest(
                    table, reader, mode="append", db_schema_name=schema, temporary=temporary
                )
            except Exception:
                # The C stream only sees "the reader failed": surface the real cause.
                if failures:
                    raise failures[0] from None
                raise

    def commit(self) -> None:
        """Commit."""
        with self.errors():
            self._conn.commit()

    def close(self) -> None:
        """Close; ADBC rolls back what was not committed."""
        self._cur.close()
        self._conn.close()


class Psycopg2Session:
    """psycopg2 fallback: each batch is written as CSV by pyarrow, then `COPY FROM STDIN`."""

    savepoints = True

    def __init__(self, url: sa.URL, where: str) -> None:
        import psycopg2

        self._where = where
        args = url.translate_connect_args(username="user", database="dbname")
        with self.errors():
            self._conn = psycopg2.connect(**args, **url.query)
            self._cur = self._conn.cursor()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Translate psycopg2's errors; the column comes from the server's diagnostics."""
        import psycopg2

        try:
            yield
        except psycopg2.Error as exc:
            column = exc.diag.column_name if exc.diag else None
            raise translate(exc, exc.pgcode, column, self._where) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement and return its rows."""
        with self.errors():
            if params:
                self._cur.execute(re.sub(r"\$\d+", "%s", sql), tuple(params))
            else:
                self._cur.execute(sql)
            return list(self._cur.fetchall()) if self._cur.description else []

    def execute(self, sql: str) -> int:
        """Run a statement and return how many rows it wrote."""
        with self.errors():
            self._cur.execute(sql)
            return int(self._cur.rowcount)

    def copy(
        self,
        schema: str | None,
        table: str,
        arrow_schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        temporary: bool = False,
    ) -> None:
        """One CSV COPY per batch; an empty string is quoted, so it stays distinct from NULL."""
        columns = ", ".join(quote(n) for n in arrow_schema.names)
        sql = f"COPY {qualify(schema, table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
        options = pacsv.WriteOptions(include_header=False)
        with self.errors():
            for batch in batches:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, options)
                buffer.seek(0)
                self._cur.copy_expert(sql, buffer)

    def commit(self) -> None:
        """Commit."""
        with self.errors():
            self._conn.commit()

    def close(self) -> None:
        """Close; psycopg2 rolls back what was not committed."""
        self._conn.close()
