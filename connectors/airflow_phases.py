"""The phases of a stream's Airflow task, each staging its output for the next one.

`connectors.airflow_tasks` runs them in order in one task and reuses, on a retry, a phase
that an earlier try staged in full (`connectors.staging.StreamStage.staged`): each phase's
manifest, written last, keeps the spec's hash, its row count and its counts for the XCom.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors import report, traces
from connectors.errors import DagsmithError
from connectors.lineage import report as lineage
from connectors.metrics import push_stream
from connectors.plan import StreamPlan, committed
from connectors.results import RunSummary, StreamResult
from connectors.runtime import Rejects, StreamStats
from connectors.staging import StreamStage

log = logging.getLogger("dagsmith")

Counts = dict[str, Any]
"""A phase's rows and rejects, as its XCom shows them."""


@dataclass(frozen=True)
class StreamTask:
    """One try of a stream's task: its plan, staging folder and the phases run so far."""

    plan: StreamPlan
    stage: StreamStage
    spec: str
    """A hash of the spec's JSON: staged phases of another spec are never reused."""
    ti: Any
    started: float = field(default_factory=time.perf_counter)
    phases: dict[str, Counts] = field(default_factory=dict)


def extract(task: StreamTask) -> Counts:
    """Read the stream's source (past its watermark) into the staging area."""
    plan = task.plan
    plan.preflight()
    stats = StreamStats()
    rejects = Rejects(plan.run, stats)
    # The transform filters from the bound the extract read from: one stored value.
    stored = plan.stored_watermark()
    position = plan.stored_position()
    rows = task.stage.write(
        "extract", plan.extract(rejects, stats, plan.watermark(stored), position)
    )
    task.stage.write_rejects("extract", rejects.table())
    counts = {"rows": rows, "rejected": rejects.count}
    # The position the read reached commits with the load, as `dagsmith run` does.
    moved = position.state() if position is not None else None
    task.stage.write_manifest(
        "extract",
        {
            "spec": task.spec,
            "rows": rows,
            "counts": counts,
            "stored_watermark": stored,
            "position": moved,
            "seconds": stats.seconds,
            "started": plan.run.started_at.timestamp(),
        },
    )
    return counts


def transform(task: StreamTask) -> Counts:
    """Apply the stream's rules and its watermark's filter to the staged extract."""
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
    counts = {
        "rows_read": stats.rows_read,
        "rows_filtered": stats.rows_filtered,
        "rows": rows,
        "rejected": rejects.count,
    }
    task.stage.write_manifest(
        "transform",
        {
            "spec": task.spec,
            "rows": rows,
            "counts": counts,
            "state": committed(cursor, lambda: extracted.get("position"))(),
            "columns": stats.columns,
            "seconds": {**extracted.get("seconds", {}), **stats.seconds},
        },
    )
    return counts


def load(task: StreamTask) -> Counts:
    """Load the staged rows and rejects in one transaction, then clean the staging area.

    Its outcome is pushed as metrics (a failure by `airflow_tasks`) and written as the run
    report, whether it committed or failed."""
    plan = task.plan
    manifest = task.stage.read_manifest("transform")
    counts = manifest.get("counts", {})
    stats = StreamStats(
        rows_read=int(counts.get("rows_read", 0)),
        rows_filtered=int(counts.get("rows_filtered", 0)),
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
    lineage.completed(plan, stats)
    push_stream(plan.run, stats, outcome.status, time.perf_counter() - task.started)
    if traces.enabled():
        traces.ended(plan, stats, None, stream_started(task))
    _publish(task, outcome)
    task.stage.clean()
    return {
        "rows": result.rows_loaded,
        "rejected": stats.rows_rejected,
        "already_loaded": result.skipped,
    }


def _publish(task: StreamTask, outcome: StreamResult) -> None:
    """Write the stream's run report and JUnit file into the staging area, and log where.

    The load has committed (or failed) by now: a report that cannot be written costs a
    warning, never the task.
    """
    plan = task.plan
    # The stream's time is its phases' own work, as the stages timed it.
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


def stream_started(task: StreamTask) -> datetime:
    """When the stream run began: its extract's start, kept in the extract's manifest."""
    started = task.stage.read_manifest("extract").get("started")
    if started is None:
        return task.plan.run.started_at
    return datetime.fromtimestamp(float(started), UTC)
