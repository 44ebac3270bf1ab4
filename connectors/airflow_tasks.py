"""Entry points of the generated DAGs' tasks: extract, transform and load of one stream.

A generated DAG embeds its validated spec as a JSON string literal and calls these
functions from inside its tasks, so no spec value ever travels as a task argument (Airflow
renders those as Jinja templates). Airflow's context gives the run id and data interval;
what each stage reads, does and loads comes from the stream's plan (`connectors.plan`), as
for `dagsmith run`; data moves between the tasks as Parquet in the staging area
(`connectors.staging`), with the extract's stored watermark, so the transform filters from
the same bound that the source was read from. The extract starts with
the target's pre-flight, so a load bound to fail reads nothing. The three tasks' spans join
one trace, the stream run's (`connectors.traces`).

A TerminalError fails the task without a retry (AirflowFailException); a TransientError
propagates, so Airflow retries the task as the spec's `retries` says. A retried load of
a committed run id writes nothing twice; an append's rows carry the data interval, so a
new run of the same interval (a re-trigger, a backfill again) replaces them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors import dagfile, report, traces
from connectors.connections import resolve_target
from connectors.errors import DagsmithError, TerminalError
from connectors.lineage import report as lineage
from connectors.logs import stream_context
from connectors.metrics import push_stream
from connectors.plan import StreamPlan, committed, plan_stream
from connectors.results import RunSummary, StreamResult
from connectors.runtime import Rejects, StreamStats
from connectors.spec.models import Pipeline
from connectors.staging import StreamStage, staging_url

log = logging.getLogger("dagsmith")


@dataclass(frozen=True)
class StreamTask:
    """One task of one stream: the stream's plan and its staging folder."""

    plan: StreamPlan
    stage: StreamStage


def extract(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> dict[str, Any]:
    """Read the stream's source (past its watermark) into the staging area."""
    with _running(spec_json, stream, dag_file, spec_dir) as task:
        plan = task.plan
        lineage.started(plan)
        plan.preflight()
        stats = StreamStats()
        rejects = Rejects(plan.run, stats)
        # The transform filters from the bound the extract read from: one stored value.
        stored = plan.stored_watermark()
        position = plan.stored_position()
        staged = plan.extract(rejects, stats, plan.watermark(stored), position)
        rows = task.stage.write("extract", staged)
        task.stage.write_rejects("extract", rejects.table())
        # The position the read reached commits with the load, as `dagsmith run` does.
        moved = position.state() if position is not None else None
        task.stage.write_manifest(
            "extract",
            {
                "stored_watermark": stored,
                "position": moved,
                "seconds": stats.seconds,
                "started": plan.run.started_at.timestamp(),
            },
        )
        return _summary(task, rows_extracted=rows, rows_rejected=rejects.count)


def transform(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> dict[str, Any]:
    """Apply the stream's rules and its watermark's filter to the staged extract."""
    with _running(spec_json, stream, dag_file, spec_dir) as task:
        plan = task.plan
        stats = StreamStats()
        rejects = Rejects(plan.run, stats)
        extracted = task.stage.read_manifest("extract")
        watermark = plan.watermark(extracted.get("stored_watermark"))
        if (staged := task.stage.read_rejects("extract")) is not None:
            numbers = staged.column("row_number").drop_null().to_pylist()
            rejects.note_source_rows([int(n) for n in numbers if n is not None])
        raw = task.stage.read("extract", plan.stream.batch_rows)
        rows = task.stage.write("transform", plan.transform(raw, rejects, stats, watermark))
        task.stage.write_rejects("transform", rejects.table())
        cursor = watermark.state if watermark is not None else lambda: None
        state = committed(cursor, lambda: extracted.get("position"))()
        task.stage.write_manifest(
            "transform",
            {
                "rows_read": stats.rows_read,
                "rows_filtered": stats.rows_filtered,
                "state": state,
                "columns": stats.columns,
                "seconds": {**extracted.get("seconds", {}), **stats.seconds},
            },
        )
        return _summary(
            task,
            rows_read=stats.rows_read,
            rows_filtered=stats.rows_filtered,
            rows_out=rows,
            rows_rejected=rejects.count,
        )


def load(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> dict[str, Any]:
    """Load the staged rows and rejects in one transaction, then clean the staging area."""
    with _running(spec_json, stream, dag_file, spec_dir) as task:
        return _load(task)


def _load(task: StreamTask) -> dict[str, Any]:
    """The load itself; its outcome is pushed as metrics (a failure by `_running`) and written
    as the run report, whether it committed or failed."""
    started = time.perf_counter()
    plan = task.plan
    manifest = task.stage.read_manifest("transform")
    stats = StreamStats(
        rows_read=int(manifest.get("rows_read", 0)),
        rows_filtered=int(manifest.get("rows_filtered", 0)),
        columns={
            key: [(n, t) for n, t in cols] for key, cols in manifest.get("columns", {}).items()
        },
        seconds=dict(manifest.get("seconds", {})),
    )
    rejects = Rejects(plan.run, stats)
    for stage in ("extract", "transform"):
        if (staged := task.stage.read_rejects(stage)) is not None:
            rejects.add_table(staged)
    batches = task.stage.read("transform", plan.stream.batch_rows)
    outcome = StreamResult(plan.stream.name, plan.stream.load.table, plan.stream.load.mode, stats)
    try:
        outcome.load = result = plan.load(
            plan.load_job(batches, rejects, stats, lambda: manifest.get("state"))
        )
    except DagsmithError as exc:
        outcome.error = exc
        _publish(task, outcome)
        raise
    stats.rows_loaded = result.rows_loaded
    lineage.completed(plan, stats)
    push_stream(plan.run, stats, outcome.status, time.perf_counter() - started)
    if traces.enabled():
        traces.ended(plan, stats, None, _stream_started(task))
    _publish(task, outcome)
    task.stage.clean()
    return _summary(
        task,
        rows_loaded=result.rows_loaded,
        rows_rejected=stats.rows_rejected,
        rows_filtered=stats.rows_filtered,
        already_loaded=result.skipped,
    )


def _publish(task: StreamTask, outcome: StreamResult) -> None:
    """Write the stream's run report and JUnit file into the staging area, and log where.

    The load has committed (or failed) by now: a report that cannot be written costs a
    warning, never the task.
    """
    plan = task.plan
    # The stream's time is its three tasks' own: the time between them is Airflow's.
    outcome.seconds = sum(outcome.stats.seconds.values())
    summary = RunSummary(plan.spec.pipeline, plan.run.run_id, plan.target, [outcome])
    page, tests = task.stage.report(".html"), task.stage.report(".junit.xml")
    try:
        report.write(summary, plan.spec, page=page, tests=tests)
    except OSError as exc:
        log.warning(
            "%s: the run report could not be written to %s: %s", plan.stream.name, page, exc
        )
        return
    log.info("run report: %s (JUnit XML: %s)", report.link(page), report.link(tests))


def stream_task(spec_json: str, stream: str, dag_file: str, spec_dir: str) -> StreamTask:
    """Plan the stream from the embedded spec and Airflow's context (run id, interval)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    spec = Pipeline.model_validate_json(spec_json)
    run_id = str(context["run_id"])
    project_dir = dagfile.project_dir(dag_file)
    plan = plan_stream(
        spec,
        stream,
        run_id=run_id,
        target=resolve_target(spec.target, project_dir),
        base_dir=dagfile.base_dir(dag_file, spec_dir),
        project_dir=project_dir,
        interval=(context.get("data_interval_start"), context.get("data_interval_end")),
    )
    return StreamTask(plan, StreamStage(staging_url(), spec.pipeline, run_id, stream))


def _summary(task: StreamTask, **counts: Any) -> dict[str, Any]:
    """The task's return value (its XCom): counts and the run it belongs to."""
    start, end = task.plan.interval
    summary = {
        "stream": task.plan.stream.name,
        "run_id": task.plan.run.run_id,
        "data_interval": [_iso(start), _iso(end)],
        **counts,
    }
    log.info("%s", summary)
    return summary


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@contextmanager
def _running(spec_json: str, stream: str, dag_file: str, spec_dir: str) -> Iterator[StreamTask]:
    """A task's setting: its log context, and a failure pushed as metrics and recorded in the
    target before it is raised (so an extract that fails shows as a failed run, not only as a
    stale one)."""
    with _failing_terminal_errors():
        task = stream_task(spec_json, stream, dag_file, spec_dir)
        started = time.perf_counter()
        with stream_context(task.plan.run), traces.stream(task.plan):
            try:
                yield task
            except DagsmithError as exc:
                push_stream(task.plan.run, StreamStats(), "failed", time.perf_counter() - started)
                lineage.failed(task.plan, StreamStats(), exc)
                task.plan.record_failure(StreamStats(), exc)
                _trace_failure(task, exc)
                raise
            except Exception as exc:
                lineage.failed(task.plan, StreamStats(), exc)
                task.plan.record_failure(StreamStats(), exc)
                _trace_failure(task, exc)
                raise


def _trace_failure(task: StreamTask, error: BaseException) -> None:
    """Send the stream's span when no retry follows this failure (a terminal error, or the
    task's last try): the stream run ends here."""
    if not traces.enabled():
        return
    if not isinstance(error, TerminalError):
        from airflow.sdk import get_current_context

        ti = get_current_context()["ti"]
        if ti.try_number <= ti.max_tries:
            return
    traces.ended(task.plan, StreamStats(), error, _stream_started(task))


def _stream_started(task: StreamTask) -> datetime:
    """When the stream run began: its extract's start, kept in the extract's manifest."""
    started = task.stage.read_manifest("extract").get("started")
    if started is None:
        return task.plan.run.started_at
    return datetime.fromtimestamp(float(started), UTC)


@contextmanager
def _failing_terminal_errors() -> Iterator[None]:
    """Turn a TerminalError into Airflow's no-retry failure; let anything else retry."""
    try:
        yield
    except TerminalError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
