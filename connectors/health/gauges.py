"""A health check's results as Prometheus gauges, pushed beside each stream's run metrics.

Each stream's gauges go to the same Pushgateway group as its run metrics (`job="dagsmith"`,
`pipeline`, `stream`; `connectors.metrics`), with POST, which replaces only the gauges named
here: a retired stream's group is deleted whole, as docs/deploy.md says.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from connectors.health.model import PipelineHealth, StreamHealth
from connectors.metrics import PUSHGATEWAY_ENV, push_group

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry


def push(health: PipelineHealth, url: str | None = None) -> bool:
    """Push every stream's gauges; False when there is no gateway or a push failed (logged).

    Args:
        health: The checks' results.
        url: The Pushgateway; default: `DAGSMITH_PUSHGATEWAY_URL`, and no push when unset.
    """
    url = url or os.environ.get(PUSHGATEWAY_ENV)
    if not url:
        return False
    checked = health.checked_at.timestamp()
    pushed = [
        push_group(health_registry(stream, checked), health.pipeline, stream.stream, url)
        for stream in health.streams
    ]
    return all(pushed)


def health_registry(stream: StreamHealth, checked: float) -> CollectorRegistry:
    """One stream's health gauges, in a registry of their own."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    ok = Gauge(
        "dagsmith_health_ok",
        "1 when the health check passed (or waits for more runs), 0 when it failed.",
        ["check"],
        registry=registry,
    )
    failed = {result.check for result in stream.findings}
    for check in dict.fromkeys(result.check for result in stream.results):
        ok.labels(check=check).set(0 if check in failed else 1)
    Gauge(
        "dagsmith_health_last_check_timestamp_seconds",
        "Unix time the health checks last ran.",
        registry=registry,
    ).set(checked)
    if stream.seconds_since_success is not None:
        Gauge(
            "dagsmith_health_seconds_since_success",
            "Seconds from the last success to the health check.",
            registry=registry,
        ).set(stream.seconds_since_success)
    if stream.freshness_limit is not None:
        Gauge(
            "dagsmith_health_freshness_limit_seconds",
            "The oldest the last success may be, in seconds, per the schedule or `freshness`.",
            registry=registry,
        ).set(stream.freshness_limit)
    return registry
