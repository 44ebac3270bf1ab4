"""Send a stream run's OpenLineage events: on when OpenLineage is configured, never in the way.

OpenLineage is on when `OPENLINEAGE_URL`, `OPENLINEAGE_CONFIG` or an `OPENLINEAGE__...`
variable is set (and `OPENLINEAGE_DISABLED` is not `true`): the openlineage client reads
them as everywhere else, transport included. Events go out on one background thread, in
order. A run waits for its last event at most `DAGSMITH_LINEAGE_TIMEOUT` seconds (default
5); a receiver that is down, slow or refusing costs a warning in the log, never the load.
"""

from __future__ import annotations

import logging
import os
import threading
from queue import Queue
from typing import TYPE_CHECKING, Any

from connectors.masking import mask

if TYPE_CHECKING:
    from connectors.plan import StreamPlan
    from connectors.runtime import StreamStats

log = logging.getLogger("dagsmith")

TIMEOUT_ENV = "DAGSMITH_LINEAGE_TIMEOUT"
_SETTINGS = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")
_PREFIX = "OPENLINEAGE__"


def enabled() -> bool:
    """Whether OpenLineage is configured in this process's environment."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name) for name in _SETTINGS) or any(
        name.startswith(_PREFIX) for name in os.environ
    )


def started(plan: StreamPlan) -> None:
    """A stream run starts (sent in the background: the run does not wait)."""
    _send("START", plan)


def completed(plan: StreamPlan, stats: StreamStats) -> None:
    """A stream run committed; waits a bounded time for the receiver."""
    _send("COMPLETE", plan, stats)
    _flush()


def failed(plan: StreamPlan, stats: StreamStats, error: BaseException) -> None:
    """A stream run failed; waits a bounded time for the receiver."""
    _send("FAIL", plan, stats, error)
    _flush()


def _send(
    state: str,
    plan: StreamPlan,
    stats: StreamStats | None = None,
    error: BaseException | None = None,
) -> None:
    if not enabled():
        return
    try:
        from openlineage.client.event_v2 import RunState

        from connectors.lineage.events import run_event

        event = run_event(RunState(state), plan, stats, error)
    except Exception as exc:  # lineage never fails a run: say why, and go on
        log.warning("lineage: no %s event for %s: %s", state, plan.stream.name, _said(exc))
        return
    _sender().put(event, f"{state} {plan.run.pipeline}.{plan.run.stream}")


def _flush() -> None:
    if (sender := _current) is not None:
        sender.wait(_timeout())


def _timeout() -> float:
    try:
        return max(0.0, float(os.environ.get(TIMEOUT_ENV) or 5))
    except ValueError:
        return 5.0


class _Sender:
    """One openlineage client and the thread that emits through it, in order."""

    def __init__(self, settings: tuple[tuple[str, str], ...]) -> None:
        self.settings = settings
        self._queue: Queue[tuple[Any, str]] = Queue()
        self._client: Any = None
        threading.Thread(target=self._work, name="dagsmith-lineage", daemon=True).start()

    def put(self, event: Any, what: str) -> None:
        self._queue.put((event, what))

    def wait(self, timeout: float) -> None:
        """Wait until every event was sent (or given up on), at most `timeout` seconds."""
        done = threading.Event()
        self._queue.put((done, ""))
        if not done.wait(timeout):
            log.warning(
                "lineage: the OpenLineage receiver did not take the events within %.0f s; "
                "the run goes on without waiting (%s)",
                timeout,
                TIMEOUT_ENV,
            )

    def _work(self) -> None:
        while True:
            event, what = self._queue.get()
            if isinstance(event, threading.Event):
                event.set()
                continue
            try:
                self._emit(event)
            except Exception as exc:  # a receiver down or refusing: the run goes on
                log.warning("lineage: %s event not sent: %s", what, _said(exc))

    def _emit(self, event: Any) -> None:
        if self._client is None:
            self._client = _client()
        self._client.emit(event)


def _client() -> Any:
    """The openlineage client, configured from the environment as the client reads it.

    The client writes aliases of `OPENLINEAGE_URL` into `os.environ` as it starts; they are
    taken out again, so the environment stays what the user set (and a later change of
    `OPENLINEAGE_URL` in this process is not hidden by them).
    """
    from openlineage.client import OpenLineageClient

    before = {name for name in os.environ if name.startswith(_PREFIX)}
    try:
        return OpenLineageClient()
    finally:
        for name in [n for n in os.environ if n.startswith(_PREFIX) and n not in before]:
            del os.environ[name]


_current: _Sender | None = None
_lock = threading.Lock()


def _sender() -> _Sender:
    """This process's sender, made anew when the OpenLineage settings changed."""
    global _current  # noqa: PLW0603 - one sender (one thread) per process and settings
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OPENLINEAGE")))
    with _lock:
        if _current is None or _current.settings != settings:
            _current = _Sender(settings)
        return _current


def _said(exc: BaseException) -> str:
    """An error in a few words, secrets masked."""
    return mask(f"{type(exc).__name__}: {exc}")[:300]
