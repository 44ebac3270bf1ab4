"""The OpenTelemetry SDK as dagsmith's traces use it: a provider of our own, opened for a run
(or an Airflow task) and closed at its end within a bounded time.

The provider is dagsmith's, never the global one, so an Airflow process that traces itself
keeps its own. It reads the standard settings: `OTEL_TRACES_EXPORTER` (`otlp`, `console`),
`OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` (`http/protobuf`; `grpc` when its exporter is
installed), the endpoint, headers and timeout, `OTEL_SERVICE_NAME` and
`OTEL_RESOURCE_ATTRIBUTES` (`service.name` defaults to `dagsmith`), `OTEL_TRACES_SAMPLER`
and `OTEL_BSP_*`. An export that fails is told once, as a warning, when the run ends.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import Tracer

from connectors import __version__
from connectors.masking import mask

log = logging.getLogger("dagsmith")

TIMEOUT_ENV = "DAGSMITH_TRACES_TIMEOUT"
_EXPORTER_LOGGERS = {
    "http/protobuf": "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "grpc": "opentelemetry.exporter.otlp.proto.grpc.exporter",
}
"""Where each OTLP exporter logs its retries and failures (told by `_Exporter` instead)."""


_fixed: ContextVar[tuple[int | None, int] | None] = ContextVar("dagsmith_span_ids", default=None)


class _Ids(RandomIdGenerator):
    """Random ids, but those `fixed_ids` gives for the span started in its block."""

    def generate_span_id(self) -> int:
        fixed = _fixed.get()
        return fixed[1] if fixed is not None else super().generate_span_id()

    def generate_trace_id(self) -> int:
        fixed = _fixed.get()
        if fixed is not None and fixed[0] is not None:
            return fixed[0]
        return super().generate_trace_id()

    def is_trace_id_random(self) -> bool:
        return _fixed.get() is None


@contextmanager
def fixed_ids(trace_id: int | None, span_id: int) -> Iterator[None]:
    """Start the span of this block with these ids (a trace id only matters for a root)."""
    token = _fixed.set((trace_id, span_id))
    try:
        yield
    finally:
        _fixed.reset(token)


class _Exporter(SpanExporter):
    """An exporter whose failures are kept, to be told once when the run ends."""

    def __init__(self, inner: SpanExporter, where: str, logger: str | None) -> None:
        self.inner = inner
        self.where = where
        self.problem: str | None = None
        self._closed = False
        if logger is not None and logger not in _quieted:
            logging.getLogger(logger).addFilter(_keep_ours)
            _quieted.add(logger)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        _exporting.active = self
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # a collector's failure is never the run's
            self.problem = f"{type(exc).__name__}: {exc}"
            return SpanExportResult.FAILURE
        finally:
            _exporting.active = None
        if result is not SpanExportResult.SUCCESS and self.problem is None:
            self.problem = "the export failed"
        return result

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self.inner.shutdown()


_exporting = threading.local()
"""The `_Exporter` exporting on this thread (the span processor's), if any."""
_quieted: set[str] = set()


def _keep_ours(record: logging.LogRecord) -> bool:
    """OTLP exporters log each retry and failure; during our export, keep the record as the
    reason it failed (told once, at the end) rather than log it."""
    exporter = getattr(_exporting, "active", None)
    if exporter is None:
        return True
    exporter.problem = record.getMessage()
    return False


@dataclass
class _Session:
    """A provider and its exporters, shared by the runs open in this process."""

    settings: tuple[tuple[str, str], ...]
    provider: TracerProvider | None
    exporters: list[_Exporter] = field(default_factory=list)
    users: int = 0
    tracer: Tracer | None = None

    def close(self, timeout: float) -> None:
        """Send what is left, waiting at most `timeout` seconds; a failure is a warning."""
        if self.provider is None:
            return
        closing = threading.Thread(target=self.provider.shutdown, name="dagsmith-traces")
        closing.daemon = True
        closing.start()
        closing.join(timeout)
        late = closing.is_alive()
        for exporter in self.exporters:
            if late:
                exporter.shutdown()  # ends the exporter's retries now
            if late or exporter.problem is not None:
                log.warning(
                    "traces: spans not sent to %s%s: %s; the run goes on",
                    exporter.where,
                    f" within {timeout:g} s ({TIMEOUT_ENV})" if late else "",
                    _reason(exporter.problem),
                )


_current: _Session | None = None
_lock = threading.Lock()


@contextmanager
def session() -> Iterator[None]:
    """Trace in this block (a run, an Airflow task); at its end, send the spans, bounded."""
    global _current  # noqa: PLW0603 - one provider per process and settings, as runs overlap
    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OTEL_")))
    with _lock:
        if _current is None or _current.settings != settings:
            _current = _open(settings)
        mine = _current
        mine.users += 1
    try:
        yield
    finally:
        with _lock:
            mine.users -= 1
            last = mine.users == 0
            if last and _current is mine:
                _current = None
        if last:
            mine.close(_timeout())


def tracer() -> Tracer | None:
    """The open session's tracer; None outside a run or when tracing could not start."""
    current = _current
    return current.tracer if current is not None else None


def root_sampled(trace_id: int) -> bool:
    """The sampler's decision for a root span of this trace (the same in every process)."""
    current = _current
    if current is None or current.provider is None:
        return False
    result = current.provider.sampler.should_sample(None, trace_id, "stream")
    return result.decision == Decision.RECORD_AND_SAMPLE


def _open(settings: tuple[tuple[str, str], ...]) -> _Session:
    try:
        exporters = _exporters()
    except Exception as exc:  # a setting we cannot follow costs the traces, not the run
        log.warning("traces: off: %s", mask(str(exc))[:300])
        return _Session(settings, None)
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win; without a name, the SDK's is
    # `unknown_service:python`.
    resource = Resource({SERVICE_VERSION: __version__}).merge(Resource.create())
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "dagsmith"}))
    provider = TracerProvider(resource=resource, id_generator=_Ids(), shutdown_on_exit=False)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return _Session(
        settings, provider, exporters, tracer=provider.get_tracer("dagsmith", __version__)
    )


def _exporters() -> list[_Exporter]:
    """The exporters `OTEL_TRACES_EXPORTER` names (default `otlp`)."""
    names = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")
    chosen = [name.strip() for name in names if name.strip() not in ("", "none")]
    unknown = sorted(set(chosen) - {"otlp", "console"})
    if unknown:
        raise ValueError(f"OTEL_TRACES_EXPORTER {', '.join(unknown)}: dagsmith knows otlp, console")
    exporters = [_otlp()] if "otlp" in chosen else []
    if "console" in chosen:  # stdout is the command's own (--json)
        exporters.append(_Exporter(ConsoleSpanExporter(out=sys.stderr), "the console", None))
    return exporters


def _otlp() -> _Exporter:
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    inner: SpanExporter
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        inner = OTLPSpanExporter()
    elif protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcSpanExporter,
            )
        except ImportError:
            raise ValueError(
                "OTLP protocol grpc needs opentelemetry-exporter-otlp-proto-grpc; "
                "or use http/protobuf (the collector's port 4318)"
            ) from None
        inner = GrpcSpanExporter()
    else:
        raise ValueError(f"OTLP protocol {protocol!r}: dagsmith sends http/protobuf or grpc")
    return _Exporter(inner, _endpoint(protocol), _EXPORTER_LOGGERS[protocol])


def _endpoint(protocol: str) -> str:
    """The collector's address for a message: scheme, host, port and path, nothing else."""
    url = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not url:
        http = protocol == "http/protobuf"
        base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or (
            "http://localhost:4318" if http else "http://localhost:4317"
        )
        url = base.rstrip("/") + "/v1/traces" if http else base
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _reason(problem: str | None) -> str:
    """An exporter's last complaint in a few words, masked (a retry's is its cause alone)."""
    if problem is None:
        return "no answer"
    cause = re.sub(r"^Transient error (.*) encountered while exporting .*$", r"\1", problem)
    cause = mask(cause)
    return cause if len(cause) <= 300 else cause[:299] + "…"


def _timeout() -> float:
    try:
        return max(0.0, float(os.environ.get(TIMEOUT_ENV) or 5))
    except ValueError:
        return 5.0
