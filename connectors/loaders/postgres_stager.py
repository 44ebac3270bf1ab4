"""Staging on a second connection, so that an upsert merges one chunk while the next stages.

An upsert's merge is the server's slowest step, and the load's one transaction cannot
share its connection with a COPY that runs meanwhile. So a second connection, on a thread
of its own, COPYs the rows into a series of unlogged tables, committing each, while the
load's transaction merges each as soon as it is committed. Nothing reaches the target but
through that transaction.

Chunks start at `FIRST_CHUNK` rows and double up to `LARGEST_CHUNK`: the first is all the
staging that does not overlap a merge, and doubling keeps the number of tables small.
The tables are dropped once the load's transaction has ended; a process killed before
that leaves them, and the next load of the stream drops them.
"""

from __future__ import annotations

import contextvars
import hashlib
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from queue import Queue

import pyarrow as pa

from connectors.errors import DagsmithError
from connectors.loaders.postgres_driver import PgSession
from connectors.loaders.postgres_sql import Plan, qualify
from connectors.loaders.prepare import SortedKey, counted
from connectors.runtime import log

FIRST_CHUNK = 100_000
LARGEST_CHUNK = 1_600_000
LEFTOVERS = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = coalesce($1::text, current_schema()) AND starts_with(c.relname, $2::text)
"""


@dataclass(frozen=True)
class Chunk:
    """A committed staging table: its qualified name, its rows, and whether its keys were
    proven unique while it staged (else it needs a dedupe before its merge)."""

    table: str
    rows: int
    unique: bool


class _Cancelled(Exception):
    """The load gave up: stop staging."""


class Stager:
    """Stages batches into unlogged tables on its own connection and thread.

    Args:
        connect: Opens the second connection.
        plan: The load's plan (the staging tables' columns).
        schema: The target's schema (None: the connection's current schema).
        stream: `pipeline\\x1fstream`: names the tables, so a later run finds leftovers.
        key: A one-column key whose uniqueness each chunk tries to prove, or None.
    """

    def __init__(
        self,
        connect: Callable[[], PgSession],
        plan: Plan,
        schema: str | None,
        stream: str,
        key: str | None,
    ) -> None:
        self._plan, self._schema, self._key = plan, schema, key
        self._stream = f"_dagsmith_stage_{hashlib.sha256(stream.encode()).hexdigest()[:12]}_"
        # Tables of their own: a run ending as the next starts drops only its own.
        self._prefix = f"{self._stream}{secrets.token_hex(4)}_"
        self._session = connect()
        self._queue: Queue[Chunk | BaseException | None] = Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tables: list[str] = []
        self._staged = [0]

    def start(self, batches: Iterator[pa.RecordBatch]) -> None:
        """Drop what a killed run of the stream left, then stage `batches` on a thread.

        Call it under the stream's lock: no other run of the stream is staging then.
        """
        self._drop(name for (name,) in self._session.query(LEFTOVERS, [self._schema, self._stream]))
        self._session.commit()
        # A thread starts with empty context variables: its log lines need the run's.
        self._thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._stage, batches),
            name="dagsmith-stager",
            daemon=True,
        )
        self._thread.start()

    @property
    def rows(self) -> int:
        """Rows staged so far."""
        return self._staged[0]

    def chunks(self) -> Iterator[Chunk]:
        """Each chunk once committed, in staging order; a staging error is raised here."""
        while (item := self._queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop staging, drop the tables and close. Call once the load's transaction ended:
        it holds locks on the tables it read until then."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self._session.commit()  # ends a transaction a failed COPY left open
            self._drop(self._tables)
            self._session.commit()
        except DagsmithError as exc:  # the load's own outcome matters more than tidying up
            log.warning("staging tables left for the stream's next run to drop: %s", exc)
        finally:
            self._session.close()

    def _drop(self, names: Iterable[str]) -> None:
        for name in names:
            self._session.query(f"DROP TABLE IF EXISTS {qualify(self._schema, name)}")

    def _stage(self, batches: Iterator[pa.RecordBatch]) -> None:
        try:
            for number, run in enumerate(_runs(batches, _sizes()), 1):
                self._queue.put(self._stage_chunk(f"{self._prefix}{number}", run))
            self._queue.put(None)
        except _Cancelled:
            self._queue.put(None)
        except BaseException as exc:  # the merging thread re-raises it
            self._queue.put(exc)

    def _stage_chunk(self, name: str, run: Iterator[pa.RecordBatch]) -> Chunk:
        table = qualify(self._schema, name)
        self._session.query(self._plan.stage_ddl(with_seq=True, table=table))
        self._tables.append(name)
        watch = SortedKey(self._key)
        before = self._staged[0]
        numbered = counted(self._until_stopped(run), self._staged, numbered=True)
        self._session.copy(self._schema, name, self._plan.wire_schema(True), watch.watch(numbered))
        self._session.commit()
        return Chunk(table, self._staged[0] - before, watch.unique)

    def _until_stopped(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """The batches, until the load gives up."""
        for batch in batches:
            if self._stop.is_set():
                raise _Cancelled
            yield batch


def _sizes() -> Iterator[int]:
    size = FIRST_CHUNK
    while True:
        yield size
        size = min(size * 2, LARGEST_CHUNK)


def _runs(
    batches: Iterator[pa.RecordBatch], sizes: Iterator[int]
) -> Iterator[Iterator[pa.RecordBatch]]:
    """The batches in consecutive runs of at least the next size's rows (the last may be
    short). Each run must be consumed before the next is asked for: they share one iterator.
    """
    for first, wanted in zip(batches, sizes, strict=False):

        def run(
            batch: pa.RecordBatch | None = first, wanted: int = wanted
        ) -> Iterator[pa.RecordBatch]:
            count = 0
            while batch is not None:
                yield batch
                count += batch.num_rows
                if count >= wanted:
                    return
                batch = next(batches, None)

        yield run()
