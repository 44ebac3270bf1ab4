"""The spans of a run, made with OpenTelemetry's API on dagsmith's own provider (`export`).

Attributes: every span has `dagsmith.pipeline` and `dagsmith.run_id`; a stream's spans also
`dagsmith.stream`, its stages `dagsmith.try_number` and `dagsmith.stage.seconds` (the
stage's own time, as the run summary counts it), and the rows they handled
(`dagsmith.rows.*`). A failure sets the span's status to error with its message, masked.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, Status, StatusCode, Tracer
from opentelemetry.trace import TraceFlags as Flags
from opentelemetry.util.types import AttributeValue

from connectors.lineage.names import run_uuid
from connectors.masking import mask
from connectors.metrics import try_number
from connectors.traces import export

if TYPE_CHECKING:
    import pyarrow as pa

    from connectors.plan import StreamPlan
    from connectors.results import RunSummary
    from connectors.runtime import RunInfo, StreamStats

Attributes = dict[str, AttributeValue]

MESSAGE_CHARS = 2000
_ORIGIN = "_dagsmith_traced_in"
"""Set on an error by the stage span that recorded it first."""
_COUNTS = {
    "transform": ("read", "filtered", "rejected"),
    "load": ("loaded", "rejected"),
    "stream": ("read", "filtered", "rejected", "loaded"),
}
"""The row counts each kind of span carries (extract: the rows it gave, `dagsmith.rows.out`)."""

_run: ContextVar[SpanContext | None] = ContextVar("dagsmith_trace_run", default=None)
"""`dagsmith run`'s run span, while its streams run."""


@contextmanager
def run(summary: RunSummary) -> Iterator[None]:
    """The run's root span; its streams join its trace."""
    with export.session():
        tracer = export.tracer()
        if tracer is None:
            yield
            return
        identity = {"dagsmith.pipeline": summary.pipeline, "dagsmith.run_id": summary.run_id}
        span = _start(tracer, f"run {summary.pipeline}", None, identity)
        token = _run.set(span.get_span_context())
        try:
            yield
        except BaseException as exc:
            failed(span, exc)
            raise
        finally:
            _run.reset(token)
            _run_outcome(span, summary)
            span.end()


def _run_outcome(span: Span, summary: RunSummary) -> None:
    broken = [result.stream for result in summary.streams if result.error is not None]
    span.set_attributes({"dagsmith.streams": len(summary.streams), "dagsmith.failed": len(broken)})
    if broken:
        span.set_status(Status(StatusCode.ERROR, f"stream(s) failed: {', '.join(broken)}"))


@contextmanager
def stream(plan: StreamPlan) -> Iterator[None]:
    """The stream's span context, current in the block; outside a run, a session of its own."""
    if _run.get() is not None:
        with _current(plan):
            yield
        return
    with export.session(), _current(plan):
        yield


@contextmanager
def _current(plan: StreamPlan) -> Iterator[None]:
    if export.tracer() is None:
        yield
        return
    parent = trace.set_span_in_context(NonRecordingSpan(_stream_context(plan.run)))
    token = otel_context.attach(parent)
    try:
        yield
    finally:
        otel_context.detach(token)


def ended(
    plan: StreamPlan, stats: StreamStats, error: BaseException | None, started: datetime
) -> None:
    """Send the stream's span, with the ids its stages' spans name as their parent."""
    tracer = export.tracer()
    if tracer is None:
        return
    own = _stream_context(plan.run)
    within = _run.get()
    parent = (
        trace.set_span_in_context(NonRecordingSpan(within)) if within else otel_context.Context()
    )
    attributes = {
        **_identity(plan.run),
        "dagsmith.table": plan.stream.load.table,
        "dagsmith.mode": plan.stream.load.mode,
        **_counts("stream", stats),
    }
    with export.fixed_ids(None if within else own.trace_id, own.span_id):
        span = _start(tracer, f"stream {plan.run.stream}", parent, attributes, started)
    if error is not None:
        failed(span, error)
    span.end()


def _stream_context(run: RunInfo) -> SpanContext:
    """The stream span's ids: its span id derived from the stream run's identity; its trace
    the run's, or outside one (an Airflow task) the stream run's OpenLineage run id."""
    key = f"dagsmith:span:{run.pipeline}:{run.stream}:{run.run_id}"
    span_id = uuid.uuid5(uuid.NAMESPACE_URL, key).int >> 64
    within = _run.get()
    if within is not None:
        return SpanContext(within.trace_id, span_id, False, within.trace_flags)
    trace_id = uuid.UUID(run_uuid(run.pipeline, run.stream, run.run_id)).int
    flags = Flags(Flags.SAMPLED if export.root_sampled(trace_id) else Flags.DEFAULT)
    return SpanContext(trace_id, span_id, True, flags)


def stage(
    name: str, batches: Iterator[pa.RecordBatch], plan: StreamPlan, stats: StreamStats
) -> Iterator[pa.RecordBatch]:
    """The batches in a span, under the stream's span current now (they may be pulled on
    another thread, the runner's prefetch)."""
    tracer = export.tracer()
    if tracer is None:
        return batches
    return _traced(tracer, name, batches, plan, stats, otel_context.get_current())


def _traced(
    tracer: Tracer,
    name: str,
    batches: Iterator[pa.RecordBatch],
    plan: StreamPlan,
    stats: StreamStats,
    parent: otel_context.Context,
) -> Iterator[pa.RecordBatch]:
    span = _start(tracer, name, parent, _stage_identity(plan))
    rows = 0
    try:
        for batch in batches:
            rows += batch.num_rows
            yield batch
    except GeneratorExit:  # the consumer stopped (its own span says why)
        raise
    except BaseException as exc:
        failed(span, exc, name)
        raise
    finally:
        span.set_attributes({**_stage_counts(name, stats), "dagsmith.rows.out": rows})
        span.end()


@contextmanager
def step(name: str, plan: StreamPlan, stats: StreamStats | None = None) -> Iterator[None]:
    """The block in a span under the stream's."""
    tracer = export.tracer()
    if tracer is None:
        yield
        return
    span = _start(tracer, name, otel_context.get_current(), _stage_identity(plan))
    try:
        yield
    except BaseException as exc:
        failed(span, exc, name)
        raise
    finally:
        if stats is not None:
            span.set_attributes(_stage_counts(name, stats))
        span.end()


def failed(span: Span, error: BaseException, stage: str | None = None) -> None:
    """Mark the span failed: its status and an exception event, the message masked.

    An error passes through the stages downstream of the one that raised it (a failed read
    fails the transform and the load): those name the stage it came from instead.
    """
    kind = type(error).__name__
    origin = getattr(error, _ORIGIN, None)
    if stage is not None and origin is not None:
        span.set_status(Status(StatusCode.ERROR, f"{kind} from {origin}"))
        return
    if stage is not None:
        with suppress(AttributeError, TypeError):  # an extension's error may take no attribute
            setattr(error, _ORIGIN, stage)
    message = mask(str(error))[:MESSAGE_CHARS]
    span.set_status(Status(StatusCode.ERROR, f"{kind}: {message}"))
    span.add_event("exception", {"exception.type": kind, "exception.message": message})


def _start(
    tracer: Tracer,
    name: str,
    parent: otel_context.Context | None,
    attributes: Mapping[str, AttributeValue],
    started: datetime | None = None,
) -> Span:
    # Exceptions are recorded by `failed`, masked: the SDK's own record would quote them raw.
    return tracer.start_span(
        name,
        context=parent,
        attributes=attributes,
        start_time=int(started.timestamp() * 1e9) if started else time.time_ns(),
        record_exception=False,
        set_status_on_exception=False,
    )


def _identity(run: RunInfo) -> Attributes:
    return {
        "dagsmith.pipeline": run.pipeline,
        "dagsmith.stream": run.stream,
        "dagsmith.run_id": run.run_id,
    }


def _stage_identity(plan: StreamPlan) -> Attributes:
    return {**_identity(plan.run), "dagsmith.try_number": try_number()}


def _stage_counts(name: str, stats: StreamStats) -> Attributes:
    counts = _counts(name, stats)
    if name in stats.seconds:
        counts["dagsmith.stage.seconds"] = round(max(stats.seconds[name], 0.0), 6)
    return counts


def _counts(kind: str, stats: StreamStats) -> Attributes:
    return {
        f"dagsmith.rows.{name}": getattr(stats, f"rows_{name}") for name in _COUNTS.get(kind, ())
    }
