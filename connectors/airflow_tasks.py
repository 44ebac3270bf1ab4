"""Entry points of the generated DAGs' tasks: extract, transform and load of one stream.

A generated DAG embeds its validated spec as a JSON string literal and calls these
functions from inside its tasks, so no spec value ever travels as a task argument (Airflow
renders those as Jinja templates). Airflow's context gives the run id and data interval;
data moves between the tasks as Parquet in the staging area (`connectors.staging`).

A TerminalError fails the task without a retry (AirflowFailException); a TransientError
propagates, so Airflow retries the task as the spec's `retries` says. The load uses
Airflow's run id: a retried or re-run load of a committed run id writes nothing twice.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors import sources, transforms
from connectors.connections import Target, resolve_target
from connectors.errors import DagsmithError, TerminalError
from connectors.incremental import STATE_KEY, Watermark
from connectors.loaders import loader_for
from connectors.loaders.base import LoadJob
from connectors.loaders.state import read_state
from connectors.logs import stream_context
from connectors.metrics import push_stream
from connectors.runner import check_reject_limit
from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats
from connectors.spec.models import Pipeline, Stream
from connectors.staging import StreamStage, staging_url

log = logging.getLogger("dagsmith")

BASE_DIR_ENV = "DAGSMITH_BASE_DIR"
PROJECT_DIR_ENV = "DAGSMITH_PROJECT_DIR"


@dataclass(frozen=True)
class StreamTask:
    """Everything one task of one stream needs, from the spec and Airflow's context."""

    spec: Pipeline
    stream: Stream
    run: RunInfo
    stage: StreamStage
    base_dir: Path
    project_dir: Path
    interval: tuple[datetime | None, datetime | None]

    def target(self) -> Target:
        """The target database, resolved through Airflow's connections first."""
        return resolve_target(self.spec.target, self.project_dir)


def extract(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> dict[str, Any]:
    """Read the stream's source into the staging area."""
    with _running(spec_json, stream, dag_file, spec_dir) as task:
        rejects = Rejects(task.run, StreamStats())
        ctx = ReadContext(
            base_dir=task.base_dir,
            batch_rows=task.stream.batch_rows,
            rejects=rejects,
            project_dir=task.project_dir,
            where=transforms.pushdown(task.stream.transform),
        )
        rows = task.stage.write("extract", sources.read(task.stream.source, ctx))
        task.stage.write_rejects("extract", rejects.table())
        return _summary(task, rows_extracted=rows, rows_rejected=rejects.count)


def transform(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> dict[str, Any]:
    """Apply the stream's rules to the staged extract (and its watermark, if incremental)."""
    with _running(spec_json, stream, dag_file, spec_dir) as task:
        stats = StreamStats()
        rejects = Rejects(task.run, stats)
        raw = task.stage.read("extract", task.stream.batch_rows)
        shaped = transforms.apply(raw, task.stream.transform, rejects, stats)
        watermark = _watermark(task)
        if watermark is not None:
            shaped = (watermark.apply(batch) for batch in shaped)
        rows = task.stage.write("transform", shaped)
        task.stage.write_rejects("transform", rejects.table())
        state = watermark.state() if watermark is not None else None
        task.stage.write_manifest(
            "transform",
            {"rows_read": stats.rows_read, "rows_filtered": stats.rows_filtered, "state": state},
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
    """The load itself; its outcome is pushed as metrics (a failure by `_running`)."""
    started = time.perf_counter()
    manifest = task.stage.read_manifest("transform")
    stats = StreamStats(
        rows_read=int(manifest.get("rows_read", 0)),
        rows_filtered=int(manifest.get("rows_filtered", 0)),
    )
    rejects = Rejects(task.run, stats)
    for stage in ("extract", "transform"):
        if (staged := task.stage.read_rejects(stage)) is not None:
            rejects.add_table(staged)
    job = LoadJob(
        run=task.run,
        load=task.stream.load,
        batches=task.stage.read("transform", task.stream.batch_rows),
        rejects=rejects,
        stats=stats,
        declared=dict(task.stream.transform.types),
        dedupe=task.stream.transform.dedupe,
        before_commit=lambda: check_reject_limit(task.stream.transform, stats),
        state=manifest.get("state"),
    )
    result = loader_for(task.target().url).load(job)
    stats.rows_loaded = result.rows_loaded
    push_stream(
        task.run, stats, "skipped" if result.skipped else "ok", time.perf_counter() - started
    )
    task.stage.clean()
    return _summary(
        task,
        rows_loaded=result.rows_loaded,
        rows_rejected=stats.rows_rejected,
        rows_filtered=stats.rows_filtered,
        already_loaded=result.skipped,
    )


def stream_task(spec_json: str, stream: str, dag_file: str, spec_dir: str) -> StreamTask:
    """Parse the embedded spec and read the run's identity from Airflow's context."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    spec = Pipeline.model_validate_json(spec_json)
    here = Path(dag_file).resolve().parent
    run_id = str(context["run_id"])
    return StreamTask(
        spec=spec,
        stream=spec.stream(stream),
        run=RunInfo(run_id, spec.pipeline, stream, datetime.now(UTC)),
        stage=StreamStage(staging_url(), spec.pipeline, run_id, stream),
        base_dir=Path(os.environ.get(BASE_DIR_ENV) or here / spec_dir).resolve(),
        project_dir=Path(os.environ.get(PROJECT_DIR_ENV) or here.parent),
        interval=(context.get("data_interval_start"), context.get("data_interval_end")),
    )


def _watermark(task: StreamTask) -> Watermark | None:
    """The stored watermark of an incremental stream, read before its rows are filtered."""
    if task.stream.incremental is None:
        return None
    state = read_state(
        task.target().url, task.stream.load.table, task.spec.pipeline, task.run.stream
    )
    log.info("%s: incremental from %s", task.stream.name, state.get(STATE_KEY))
    return Watermark(task.stream.incremental, state.get(STATE_KEY))


def _summary(task: StreamTask, **counts: Any) -> dict[str, Any]:
    """The task's return value (its XCom): counts and the run it belongs to."""
    start, end = task.interval
    summary = {
        "stream": task.stream.name,
        "run_id": task.run.run_id,
        "data_interval": [_iso(start), _iso(end)],
        **counts,
    }
    log.info("%s", summary)
    return summary


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@contextmanager
def _running(spec_json: str, stream: str, dag_file: str, spec_dir: str) -> Iterator[StreamTask]:
    """A task's setting: its log context, and a failure pushed as metrics before it is raised
    (so an extract that fails shows as a failed run, not only as a stale one)."""
    with _failing_terminal_errors():
        task = stream_task(spec_json, stream, dag_file, spec_dir)
        started = time.perf_counter()
        with stream_context(task.run):
            try:
                yield task
            except DagsmithError:
                push_stream(task.run, StreamStats(), "failed", time.perf_counter() - started)
                raise


@contextmanager
def _failing_terminal_errors() -> Iterator[None]:
    """Turn a TerminalError into Airflow's no-retry failure; let anything else retry."""
    try:
        yield
    except TerminalError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
