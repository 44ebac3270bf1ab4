"""The entry point of a generated DAG's stream task: extract, transform and load in one process.

A generated DAG embeds its validated spec as a JSON string literal, and each stream's one
task calls `run` with it: no spec value ever travels as a task argument (Airflow renders
those as Jinja templates), and a stream pays one process start, not one per phase. Airflow's
context gives the run id and data interval; what each phase reads, does and loads comes from
the stream's plan (`connectors.plan`), as for `dagsmith run`. The phases' spans join one
trace, the stream run's (`connectors.traces`).

Each phase stages its output as Parquet (`connectors.staging`), the extract with the stored
watermark it read from, so the transform filters from the same bound. A phase logs when it
starts and ends, and the task's XCom `phases` (pushed after each phase, so a failed try shows
how far it got) holds each one's rows, seconds and whether it was reused. A retry resumes:
a phase that an earlier try staged in full for the same spec is reused, so a load that met
an unreachable database does not read the source again. The load is one transaction keyed
by the run id: a retried load of a committed run writes nothing twice, and an append's rows
carry the data interval, so a new run of the same interval replaces them. The extract starts
with the target's pre-flight, so a load bound to fail reads nothing.

A TerminalError fails the task without a retry (AirflowFailException); a TransientError
propagates, so Airflow retries the task as the spec's `retries` says. A task that fails for
good (a terminal error, or its last try) removes what it staged, so clearing it later runs
every phase anew, from the source as it is then.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from connectors import airflow_phases, dagfile, environments, running, traces
from connectors.airflow_phases import Counts, StreamTask
from connectors.connections import resolve_target
from connectors.errors import DagsmithError, TerminalError
from connectors.lineage import report as lineage
from connectors.logs import stream_context
from connectors.metrics import push_stream
from connectors.plan import plan_stream
from connectors.runtime import StreamStats
from connectors.spec.models import Pipeline
from connectors.staging import StreamStage, staging_url

log = logging.getLogger("dagsmith")

PHASES_KEY = "phases"
"""The XCom key of the phases' counts, pushed after each phase."""


def run(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> dict[str, Any]:
    """Extract, transform and load one stream; a retry reuses the phases staged before."""
    with _running(spec_json, stream, dag_file, spec_dir) as task:
        lineage.started(task.plan)
        extracted = _phase(task, "extract", airflow_phases.extract)
        transformed = _phase(task, "transform", airflow_phases.transform)
        loaded = _phase(task, "load", airflow_phases.load)
        return _summary(
            task,
            rows_extracted=extracted["rows"],
            rows_read=transformed["rows_read"],
            rows_filtered=transformed["rows_filtered"],
            rows_out=transformed["rows"],
            rows_loaded=loaded["rows"],
            rows_rejected=loaded["rejected"],
            already_loaded=loaded["already_loaded"],
            phases=task.phases,
        )


def _phase(task: StreamTask, name: str, body: Callable[[StreamTask], Counts]) -> Counts:
    """One phase, logged and timed, its counts pushed to the XCom `phases`. A staged phase
    is reused while every phase before it was too (a fresh extract makes a fresh transform)."""
    started = time.perf_counter()
    resumable = name != "load" and all(done.get("reused") for done in task.phases.values())
    manifest = task.stage.staged(name, task.spec) if resumable else None
    if manifest is not None:
        counts = dict(manifest["counts"])
        log.info("phase %s: staged in full by an earlier try, reused", name)
    else:
        log.info("phase %s: started", name)
        try:
            counts = body(task)
        except Exception:
            task.phases[name] = {"failed": True, "seconds": _since(started)}
            _push(task)
            log.error("phase %s: failed after %.3f s", name, _since(started))
            raise
    task.phases[name] = {**counts, "seconds": _since(started), "reused": manifest is not None}
    log.info("phase %s: done %s", name, task.phases[name])
    _push(task)
    return counts


def _stream_task(spec_json: str, stream: str, dag_file: str, spec_dir: str) -> StreamTask:
    """Plan the stream from the embedded spec and Airflow's context (run id, interval)."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    spec = Pipeline.model_validate_json(spec_json)
    run_id = str(context["run_id"])
    project_dir = dagfile.project_dir(dag_file)
    environments.apply_defaults(project_dir)  # the deployment's, never the DAG file's
    plan = plan_stream(
        spec,
        stream,
        run_id=run_id,
        target=resolve_target(spec.target, project_dir),
        base_dir=dagfile.base_dir(dag_file, spec_dir),
        project_dir=project_dir,
        interval=(context.get("data_interval_start"), context.get("data_interval_end")),
    )
    stage = StreamStage(staging_url(), spec.pipeline, run_id, stream)
    spec_hash = hashlib.sha256(spec_json.encode()).hexdigest()[:16]
    return StreamTask(plan, stage, spec_hash, context["ti"])


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


def _push(task: StreamTask) -> None:
    task.ti.xcom_push(key=PHASES_KEY, value=task.phases)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@contextmanager
def _running(spec_json: str, stream: str, dag_file: str, spec_dir: str) -> Iterator[StreamTask]:
    """A try's setting: its log context, and a failure pushed as metrics and recorded in the
    target before it is raised (so an extract that fails shows as a failed run, not only as a
    stale one)."""
    with _failing_terminal_errors():
        task = _stream_task(spec_json, stream, dag_file, spec_dir)
        with stream_context(task.plan.run), traces.stream(task.plan):
            running.started(task.plan.run)  # one left behind is a killed try (diagnose)
            try:
                yield task
            except Exception as exc:
                if isinstance(exc, DagsmithError):
                    seconds = time.perf_counter() - task.started
                    push_stream(task.plan.run, StreamStats(), "failed", seconds)
                lineage.failed(task.plan, StreamStats(), exc)
                task.plan.record_failure(StreamStats(), exc)
                running.ended(task.plan.run)
                if not _retry_follows(task, exc):
                    _failed_for_good(task, exc)
                raise
            running.ended(task.plan.run)


def _retry_follows(task: StreamTask, error: BaseException) -> bool:
    """Whether Airflow tries the task again after this error (a transient one, tries left)."""
    if isinstance(error, TerminalError):
        return False
    return bool(task.ti.try_number <= task.ti.max_tries)


def _failed_for_good(task: StreamTask, error: BaseException) -> None:
    """The stream run ends here: send its span, and drop what it staged, so a cleared task
    reads the source again."""
    if traces.enabled():
        traces.ended(task.plan, StreamStats(), error, airflow_phases.stream_started(task))
    task.stage.clean()


@contextmanager
def _failing_terminal_errors() -> Iterator[None]:
    """Turn a TerminalError into Airflow's no-retry failure; let anything else retry."""
    try:
        yield
    except TerminalError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc
