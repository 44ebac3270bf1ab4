"""Health checks that learn from history: `dagsmith health` and the DAG's `health` task.

Each monitored stream is judged from its run records alone (`connectors.history`): is its
last success as recent as the schedule wants, did its newest attempt fail, are the rows it
loaded, each reject rule's share and its duration within what its own recent runs make
usual, has its watermark stopped moving, did its last run meet columns the table does not
have. The thresholds come from the spec's `monitor` (`connectors.spec.monitor`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from connectors import dagfile, history
from connectors.connections import Target, resolve_target
from connectors.errors import TerminalError
from connectors.health import checks
from connectors.health.gauges import push
from connectors.health.model import CheckResult, PipelineHealth, StreamHealth
from connectors.health.schedule import time_schedule
from connectors.spec.models import Pipeline
from connectors.spec.monitor import thresholds

__all__ = ["CheckResult", "PipelineHealth", "StreamHealth", "check", "check_pipeline"]

log = logging.getLogger("dagsmith")


def check_pipeline(
    spec: Pipeline, target: Target, only: str | None = None, now: datetime | None = None
) -> PipelineHealth:
    """Judge each monitored stream of `spec` (or the one named `only`) from `target`'s records.

    Raises:
        DagsmithError: The target cannot be read (TargetUnavailable when it may pass).
    """
    now = now or datetime.now(UTC)
    monitored = [
        (stream, limits)
        for stream in spec.streams
        if (only is None or stream.name == only)
        and (limits := thresholds(spec.monitor, stream.monitor)) is not None
    ]
    health = PipelineHealth(spec.pipeline, target.label, now)
    if not monitored:
        return health
    deepest = max(2 * limits.history for _, limits in monitored)
    found = history.recent(target, spec, [stream for stream, _ in monitored], deepest)
    for (stream, limits), records in zip(monitored, found, strict=True):
        tracked = stream.incremental is not None
        judged = checks.Judged(records, limits, time_schedule(spec), tracked, now)
        fresh, limit = checks.freshness(judged)
        results = [
            *checks.last_run(judged),
            *fresh,
            *checks.volume(judged),
            *checks.rejects(judged),
            *checks.duration(judged),
            *checks.watermark(judged),
            *checks.schema_drift(judged),
        ]
        age = (now - records.ok[0].finished_at).total_seconds() if records.ok else None
        health.streams.append(StreamHealth(stream.name, results, age, limit))
    return health


def check(spec_json: str, *, dag_file: str) -> dict[str, Any]:
    """The generated DAG's `health` task: judge every monitored stream after the loads, push
    the gauges, and fail the task (without a retry: a rerun would judge the same records)
    when a check failed, which sends the spec's failure alerts."""
    from airflow.sdk.exceptions import AirflowFailException

    spec = Pipeline.model_validate_json(spec_json)
    try:
        target = resolve_target(spec.target, dagfile.project_dir(dag_file))
        health = check_pipeline(spec, target)
    except TerminalError as exc:  # a transient one propagates: Airflow retries the task
        raise AirflowFailException(str(exc)) from exc
    push(health)
    log.info("%s", health.summary())
    if not health.ok:
        raise AirflowFailException(health.summary())
    return health.to_dict()
