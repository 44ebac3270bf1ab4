"""Run a pipeline's streams: read -> transform -> load, one transaction per stream."""

from __future__ import annotations

import contextvars
import errno
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from queue import Full, Queue

import pyarrow as pa

from connectors import dberrors, environments, running, traces
from connectors.connections import resolve_target
from connectors.errors import DagsmithError, SpecError, TransientError
from connectors.lineage import report as lineage
from connectors.loaders.base import LoadResult
from connectors.logs import SUMMARIZED, log_run_summary, stream_context
from connectors.metrics import push_stream
from connectors.plan import StreamPlan, committed, plan_stream
from connectors.results import RunSummary, StreamResult
from connectors.runtime import Rejects, StreamStats
from connectors.spec.models import Pipeline

log = logging.getLogger("dagsmith")

DISK_FULL = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
"""Write errors of a full disk, a file-size limit or a quota: where rows are staged
(a REST source's spool, an inflated file) ran out of room."""

Progress = Callable[[str, int], None]
"""Called with (stream name, rows read so far) as batches pass."""


def new_run_id() -> str:
    """A run id for a manual run; Airflow passes its own."""
    return f"manual__{datetime.now(UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:6]}"


def run_pipeline(
    spec: Pipeline,
    *,
    base_dir: Path,
    project_dir: Path | None = None,
    only: Sequence[str] = (),
    run_id: str | None = None,
    progress: Progress | None = None,
    full_refresh: bool = False,
) -> RunSummary:
    """Run every stream (or those named in `only`); a failed stream does not stop the others.

    Args:
        spec: The validated pipeline.
        base_dir: Folder that relative source paths are relative to (the spec's folder).
        project_dir: Folder holding `.env` and the embedded target; default: the cwd.
        only: Stream names to run; empty runs all.
        run_id: Reuse to make a rerun idempotent; default: a new manual run id.
        progress: Called as rows are read.
        full_refresh: Ignore stored watermarks and read incremental sources in full.
    """
    for name in only:
        try:
            spec.stream(name)
        except KeyError as exc:
            raise SpecError(str(exc.args[0])) from None
    project_dir = project_dir or Path.cwd()
    environments.apply_defaults(project_dir)
    target = resolve_target(spec.target, project_dir)
    summary = RunSummary(spec.pipeline, run_id or new_run_id(), target)
    with traces.run(summary):
        for stream in spec.streams:
            if not only or stream.name in only:
                plan = plan_stream(
                    spec,
                    stream.name,
                    run_id=summary.run_id,
                    target=target,
                    base_dir=base_dir,
                    project_dir=project_dir,
                    full_refresh=full_refresh,
                )
                summary.streams.append(_run_one(plan, progress))
    log_run_summary(summary)
    return summary


def _run_one(plan: StreamPlan, progress: Progress | None) -> StreamResult:
    """One stream of the run, and what it tells OpenLineage, Prometheus and OpenTelemetry."""
    with stream_context(plan.run), traces.stream(plan):
        lineage.started(plan)
        running.started(plan.run)  # removed once recorded: one left behind is a killed run
        try:
            result = run_stream(plan, progress)
        except Exception as exc:  # a bug, not a user's error: FAIL, then raise it
            lineage.failed(plan, StreamStats(), exc)
            plan.record_failure(StreamStats(), exc)
            running.ended(plan.run)
            traces.ended(plan, StreamStats(), exc, plan.run.started_at)
            raise
        running.ended(plan.run)
        _lineage(plan, result)
        traces.ended(plan, result.stats, result.error, plan.run.started_at)
    push_stream(plan.run, result.stats, result.status, result.seconds)
    return result


def _lineage(plan: StreamPlan, result: StreamResult) -> None:
    """The stream run's last OpenLineage event: COMPLETE, or FAIL with its error."""
    if result.error is None:
        lineage.completed(plan, result.stats)
    else:
        lineage.failed(plan, result.stats, result.error)


def run_stream(plan: StreamPlan, progress: Progress | None = None) -> StreamResult:
    """Run one stream's plan; expected failures are captured in the result, not raised.

    A load that met a deadlock or serialization failure with another writer rolled back
    whole, so the stream is simply run again, a bounded number of times.
    """
    for attempt in range(1, dberrors.CONFLICT_RETRIES + 1):
        result = _attempt(plan, progress)
        if result.error is None:
            return result
        if not dberrors.is_conflict(result.error.code) or attempt == dberrors.CONFLICT_RETRIES:
            log.error("%s: %s", plan.stream.name, result.error, extra={SUMMARIZED: True})
            plan.record_failure(result.stats, result.error)
            return result
        log.warning("%s: %s; running the stream again", plan.stream.name, result.error)
        dberrors.conflict_pause(attempt)
    raise AssertionError("unreachable: the last attempt returns")


def _attempt(plan: StreamPlan, progress: Progress | None) -> StreamResult:
    stream = plan.stream
    stats = StreamStats()
    result = StreamResult(stream.name, stream.load.table, stream.load.mode, stats)
    started = time.perf_counter()
    try:
        result.load = _run_plan(plan, stats, progress)
        stats.rows_loaded = result.load.rows_loaded
    except DagsmithError as exc:
        result.error = exc
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        result.error = TransientError(
            f"the disk that stages the stream's rows is full: {exc}",
            hint=f"free space in {tempfile.gettempdir()}, or point TMPDIR (and, for Airflow, "
            "DAGSMITH_STAGING_URL) at a larger disk",
        )
    result.seconds = time.perf_counter() - started
    return result


def _run_plan(plan: StreamPlan, stats: StreamStats, progress: Progress | None) -> LoadResult:
    """The plan's stages in one process, the extract and transform overlapping the load."""
    plan.preflight()
    rejects = Rejects(plan.run, stats)
    watermark = plan.watermark(plan.stored_watermark())
    position = plan.stored_position()
    raw = plan.extract(rejects, stats, watermark, position)
    shaped = plan.transform(raw, rejects, stats, watermark)
    batches = _reported(prefetch(shaped), plan.stream.name, stats, progress)
    state = committed(*(part.state for part in (watermark, position) if part is not None))
    # Extract and transform overlap the load (prefetch): their times are their own share,
    # `load` is the wall time of the whole pull, staging and commit.
    return plan.load(plan.load_job(batches, rejects, stats, state))


def prefetch(batches: Iterator[pa.RecordBatch], depth: int = 8) -> Iterator[pa.RecordBatch]:
    """Produce batches on a worker thread, so reading and transforming overlap the load.

    Arrow and the database drivers release the GIL, so on two cores this nearly hides the
    extract. At most `depth` batches (about 4 MiB each from a file) wait in the queue, which
    keeps memory bounded; 8 lets reading run on while the loader opens and prepares the
    target (about half a second), where 2 left it waiting.
    """
    queue: Queue[pa.RecordBatch | BaseException | None] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: pa.RecordBatch | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(None)
        except BaseException as exc:
            put(exc)

    # A thread starts with empty context variables: copy ours, so the worker's log lines
    # still carry the run's pipeline, stream and run id.
    worker = threading.Thread(
        target=contextvars.copy_context().run,
        args=(produce,),
        name="dagsmith-prefetch",
        daemon=True,
    )
    worker.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        # The consumer may stop early (a load error): let the producer see it and exit.
        stop.set()
        worker.join()


def _reported(
    batches: Iterator[pa.RecordBatch], stream: str, stats: StreamStats, progress: Progress | None
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if progress is not None:
            progress(stream, stats.rows_read)
        yield batch
