"""Say what a PostgreSQL load waits for: a lock another session holds.

PostgreSQL waits for a lock as long as its holder keeps it (no `lock_timeout` by default),
and a load that waits shows nothing but time passing. `LockWatch` runs beside the load: once
the load has run `waits.FIRST` seconds, and then every `waits.EVERY`, it asks the server, on
a connection of its own (none is opened for a load that ends sooner), whether the load's
backend waits on a lock, and logs who holds it: process id, role, application and since
when, never its query (a statement's text may hold values).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from types import TracebackType

from connectors.errors import DagsmithError
from connectors.loaders import waits
from connectors.loaders.postgres_driver import PgSession
from connectors.runtime import log

BLOCKERS = """
SELECT b.pid, b.usename, b.application_name, now() - a.state_change,
       to_char(b.xact_start, 'YYYY-MM-DD HH24:MI:SS TZ')
FROM pg_stat_activity a
CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS blocker(pid)
JOIN pg_stat_activity b ON b.pid = blocker.pid
WHERE a.pid = $1 AND a.wait_event_type = 'Lock'
ORDER BY b.pid
"""


class LockWatch:
    """Logs, while a `with` block runs, each lock the load's backend waits for.

    Args:
        connect: Opens the watcher's own connection (only when it first looks).
        pid: The load's backend process id.
        stream: The stream, for the log line.
    """

    def __init__(self, connect: Callable[[], PgSession], pid: int, stream: str) -> None:
        self._connect, self._pid, self._stream = connect, pid, stream
        self._stop = threading.Event()
        # A thread starts with empty context variables: its log lines need the run's.
        self._thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._watch,),
            name="dagsmith-lock-watch",
            daemon=True,
        )

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        session: PgSession | None = None
        try:
            wait = waits.FIRST
            while not self._stop.wait(wait):
                wait = waits.EVERY
                session = session or self._connect()
                for pid, role, application, waited, since in session.query(BLOCKERS, [self._pid]):
                    began = f", in a transaction since {since}" if since else ""
                    log.warning(
                        "%s: waiting %d s for a lock on the target held by process %s "
                        "(role %s, application %r%s)",
                        self._stream,
                        waited.total_seconds(),
                        pid,
                        role,
                        application or "",
                        began,
                    )
                session.commit()
        except DagsmithError as exc:  # only a message is lost: never fail the load for it
            log.debug("%s: the lock watch stopped: %s", self._stream, exc)
        finally:
            if session is not None:
                session.close()
