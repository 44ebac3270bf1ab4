"""The PostgreSQL connection a load runs on: psycopg2, with binary COPY encoded by pgpq.

pgpq encodes Arrow batches into PostgreSQL's binary COPY format in Rust (about a fifth of
the CPU time ADBC's encoder took here); psycopg2 sends the bytes as one `COPY ... FROM
STDIN` stream (with the GIL released, so the reading threads go on meanwhile) and keeps
savepoints, so a merge can roll back to one and run again. The session translates driver
errors in one place: `errors()`. SQL uses `$n` placeholders; values that reach SQL are
bound, identifiers are quoted by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pgpq
import pyarrow as pa
import sqlalchemy as sa

from connectors import dberrors
from connectors.errors import DagsmithError, LoadError, TargetUnavailable
from connectors.loaders.postgres_sql import qualify, quote

_HINTS = {
    "23": "fix the offending rows in the transform, or relax the table's constraint",
    "22": "check the column's type in the spec against the table",
    "42P10": "the table needs a primary key or unique index on exactly the upsert keys",
}


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


class PgSession:
    """One psycopg2 connection, one open transaction at a time.

    Args:
        url: The target's SQLAlchemy URL (its password is never logged or raised).
        where: The table and URL (password hidden) that errors name.
    """

    def __init__(self, url: sa.URL, where: str) -> None:
        import psycopg2

        self._where = where
        args = url.translate_connect_args(username="user", database="dbname")
        with self.errors():
            self._conn = psycopg2.connect(**args, **url.query)
            self._cur = self._conn.cursor()

    @property
    def pid(self) -> int:
        """The server process serving this connection."""
        return int(self._conn.info.backend_pid)

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
        """Run a statement and return its rows (none for DDL)."""
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
    ) -> None:
        """Binary COPY of the batches into a table, streamed: one batch encoded at a time.

        `arrow_schema` is the batches' schema; each Arrow type is written in the binary
        form of the column it goes to (see `postgres_sql.copy_type`).
        """
        columns = ", ".join(quote(n) for n in arrow_schema.names)
        sql = f"COPY {qualify(schema, table)} ({columns}) FROM STDIN WITH (FORMAT binary)"
        stream = _Encoded(arrow_schema, batches)
        with self.errors():
            try:
                self._cur.copy_expert(sql, stream)
            except Exception:
                # psycopg2 reports a failed read() as a cancelled COPY: surface the cause.
                if stream.failure is not None:
                    raise stream.failure from None
                raise

    def commit(self) -> None:
        """Commit the open transaction."""
        with self.errors():
            self._conn.commit()

    def close(self) -> None:
        """Close the connection (an open transaction rolls back)."""
        self._conn.close()


class _Encoded:
    """The batches as a file of binary COPY data, encoded as psycopg2 reads it."""

    def __init__(self, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> None:
        self._chunks = _encode(schema, batches)
        self.failure: Exception | None = None

    def read(self, _size: int = -1) -> bytes:
        """The next batch's bytes (whatever psycopg2 asks for: it sends what it gets)."""
        try:
            return next(self._chunks, b"")
        except Exception as exc:
            self.failure = exc
            raise


def _encode(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The COPY data in pieces, none empty: psycopg2 takes an empty read() as the end.
    (pgpq keeps small batches' bytes until it holds enough to hand over.)"""
    encoder = pgpq.ArrowToPostgresBinaryEncoder(schema)
    yield encoder.write_header()
    for batch in batches:
        if encoded := encoder.write_batch(batch):
            yield encoded
    yield encoder.finish()
