"""Prometheus metrics of every stream run, pushed to a Prometheus Pushgateway.

A stream run is a short batch job (an Airflow task or a `dagsmith run`): nothing stays up
long enough for Prometheus to scrape it, so each run pushes its metrics when it ends to the
Pushgateway at `DAGSMITH_PUSHGATEWAY_URL`, and Prometheus scrapes the gateway. Unset, this
module does nothing, and does not even import prometheus_client (50 ms of every run).

Every push is grouped by `job="dagsmith"`, `pipeline` and `stream`, so streams never
overwrite each other, and uses POST (`pushadd`), which replaces only the metrics it
carries: a failed run leaves the last success time of the group as it was, which is what
the freshness alert measures. The values are those of the group's latest run; counting
failures over time is PromQL's job (`changes()` on the last failure time).
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.runtime import RunInfo, StreamStats

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

log = logging.getLogger("dagsmith")

PUSHGATEWAY_ENV = "DAGSMITH_PUSHGATEWAY_URL"
TRY_NUMBER_ENV = "AIRFLOW_CTX_TRY_NUMBER"
"""Set by Airflow's task runner in the task's environment."""
JOB = "dagsmith"
PUSH_TIMEOUT_SECONDS = 5.0
"""Short on purpose: an unreachable gateway must not hold up a pipeline."""


def push_stream(
    run: RunInfo,
    stats: StreamStats,
    status: str,
    seconds: float,
    *,
    url: str | None = None,
) -> bool:
    """Push one stream run's metrics; a push failure is logged, never raised.

    Args:
        run: The run's identity; its pipeline and stream are the grouping key.
        stats: Rows read, rejected and loaded, and seconds per stage.
        status: `ok`, `skipped` (already committed: a success) or `failed`.
        seconds: Wall time of the whole stream run.
        url: The Pushgateway; default: `DAGSMITH_PUSHGATEWAY_URL`, and no push when unset.

    Returns:
        Whether the metrics were pushed.
    """
    url = url or os.environ.get(PUSHGATEWAY_ENV)
    if not url:
        return False
    registry = stream_registry(stats, status, seconds, time.time())
    return push_group(registry, run.pipeline, run.stream, url)


def push_group(registry: CollectorRegistry, pipeline: str, stream: str, url: str) -> bool:
    """POST a stream's metrics to its group of the gateway; a failure is logged, not raised."""
    from prometheus_client.exposition import pushadd_to_gateway

    try:
        pushadd_to_gateway(
            url,
            job=JOB,
            registry=registry,
            grouping_key={"pipeline": pipeline, "stream": stream},
            timeout=PUSH_TIMEOUT_SECONDS,
        )
    # Monitoring is not the load: whatever the gateway or the network does, the run goes on.
    except Exception as exc:
        log.warning("%s: metrics not pushed to %s: %s", stream, _without_credentials(url), exc)
        return False
    return True


def stream_registry(
    stats: StreamStats, status: str, seconds: float, now: float
) -> CollectorRegistry:
    """The metrics of one stream run, in a registry of their own (nothing global)."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()

    def gauge(name: str, doc: str, value: float) -> None:
        Gauge(f"dagsmith_stream_{name}", doc, registry=registry).set(value)

    failed = status == "failed"
    gauge("rows_read", "Rows read from the source by the last run.", stats.rows_read)
    gauge("rows_rejected", "Rows sent to the rejects table by the last run.", stats.rows_rejected)
    gauge(
        "rows_filtered",
        "Rows left out by filter or by the incremental watermark in the last run.",
        stats.rows_filtered,
    )
    gauge("rows_loaded", "Rows written to the target by the last run.", stats.rows_loaded)
    gauge("duration_seconds", "Wall time of the last run.", seconds)
    gauge("try_number", "Airflow's try number of the last run (1: first try).", try_number())
    gauge("last_run_failed", "1 when the last run failed, else 0.", 1 if failed else 0)
    gauge("last_run_timestamp_seconds", "Unix time the last run ended.", now)
    if failed:
        gauge("last_failure_timestamp_seconds", "Unix time the last failed run ended.", now)
    else:
        gauge("last_success_timestamp_seconds", "Unix time the last successful run ended.", now)
    stages = Gauge(
        "dagsmith_stream_stage_seconds",
        "Seconds spent per stage by the last run (extract, transform, load).",
        ["stage"],
        registry=registry,
    )
    for stage, spent in stats.seconds.items():
        # A stage's own share is derived by subtraction (`stage_time`), which can dip below zero.
        stages.labels(stage=stage).set(max(spent, 0.0))
    return registry


def try_number() -> int:
    """Airflow's try number inside a task; 1 outside Airflow."""
    try:
        return max(int(os.environ.get(TRY_NUMBER_ENV, "1")), 1)
    except ValueError:
        return 1


def _without_credentials(url: str) -> str:
    """The gateway's address for a log line: a password in the URL must not be logged."""
    parts = urlsplit(url if "//" in url else f"http://{url}")
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"
