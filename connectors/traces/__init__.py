"""OpenTelemetry traces of runs: run -> stream -> preflight, extract, transform, load.

On when the standard settings ask for traces: `OTEL_EXPORTER_OTLP_ENDPOINT`,
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER` (not `none`), unless
`OTEL_SDK_DISABLED=true`. Off, every function here does nothing, and nothing of OpenTelemetry
is imported (a `dagsmith run` must not pay for it).

A stream's stages open their spans where the stream plan times them (`connectors.plan`), so
`dagsmith run` and the Airflow tasks trace alike. `dagsmith run` is one trace: its run span,
a span per stream, the stages under it. In Airflow each try of a stream's task is a process
of its own: the stream run's trace and span ids are derived from its identity (the trace id
is the stream run's OpenLineage run id), so the tries' spans join one trace under one stream
span, which the try that ends the stream run sends. Spans go out in the background; a run waits
for them at its end at most `DAGSMITH_TRACES_TIMEOUT` seconds (default 5), and a collector
that is down costs a warning, never the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from connectors.plan import StreamPlan
    from connectors.results import RunSummary
    from connectors.runtime import StreamStats

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def enabled() -> bool:
    """Whether this process's environment asks for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return any(name.strip() not in ("", "none") for name in exporters.split(","))
    return any(os.environ.get(name) for name in _ENDPOINTS)


@contextmanager
def run(summary: RunSummary) -> Iterator[None]:
    """`dagsmith run`'s root span, around its streams; the run waits for its spans at the end.

    Its outcome (streams, failures, rows) is read from `summary` when the block ends.
    """
    if not enabled():
        yield
        return
    from connectors.traces import spans

    with spans.run(summary):
        yield


@contextmanager
def stream(plan: StreamPlan) -> Iterator[None]:
    """The stream run's span context, current in the block (the stages' spans go under it).

    Within `run`, the stream is part of the run's trace; elsewhere (an Airflow task) its trace
    is derived from the run's identity, and the task waits for its spans at the end. The
    stream's span itself is sent by `ended`.
    """
    if not enabled():
        yield
        return
    from connectors.traces import spans

    with spans.stream(plan):
        yield


def ended(
    plan: StreamPlan, stats: StreamStats, error: BaseException | None, started: datetime
) -> None:
    """Send the stream run's span, from `started` to now, with its counts and outcome."""
    if enabled():
        from connectors.traces import spans

        spans.ended(plan, stats, error, started)


def stage(
    name: str, batches: Iterator[pa.RecordBatch], plan: StreamPlan, stats: StreamStats
) -> Iterator[pa.RecordBatch]:
    """The batches, traced as stage `name` from the first one asked for to the last given."""
    if not enabled():
        return batches
    from connectors.traces import spans

    return spans.stage(name, batches, plan, stats)


@contextmanager
def step(name: str, plan: StreamPlan, stats: StreamStats | None = None) -> Iterator[None]:
    """The block, traced as stage `name` of the stream (the pre-flight, the load)."""
    if not enabled():
        yield
        return
    from connectors.traces import spans

    with spans.step(name, plan, stats):
        yield
