"""A real OTLP/HTTP receiver on loopback: POST /v1/traces, protobuf bodies decoded with the
OpenTelemetry protocol's own classes (`opentelemetry-proto`)."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


@dataclass(frozen=True)
class Span:
    """One span as received: ids in hex, times in ns, attributes as Python values."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start: int
    end: int
    attributes: dict[str, Any]
    status: tuple[str, str]
    """(code, message): code is `unset`, `ok` or `error`."""
    events: list[tuple[str, dict[str, Any]]]
    resource: dict[str, Any]

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / 1e9


@dataclass
class Receiver:
    """The spans received, in order, and every request body as sent (to search for secrets)."""

    url: str
    spans: list[Span] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 20) -> list[Span]:
        """The spans once `count` have come (those so far after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.spans) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.spans)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def decode(body: bytes) -> list[Span]:
    """The spans of one ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    codes = {0: "unset", 1: "ok", 2: "error"}
    return [
        Span(
            name=span.name,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_id=span.parent_span_id.hex(),
            start=span.start_time_unix_nano,
            end=span.end_time_unix_nano,
            attributes=_attributes(span.attributes),
            status=(codes[span.status.code], span.status.message),
            events=[(event.name, _attributes(event.attributes)) for event in span.events],
            resource=_attributes(resource_spans.resource.attributes),
        )
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (a free port) until the block ends."""
    got = Receiver("")

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            got.paths.append(self.path)
            got.bodies.append(body)
            got.spans.extend(decode(body))
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    got.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


_IDENTITY = {"dagsmith.pipeline", "dagsmith.stream", "dagsmith.run_id"}


def tree(spans: list[Span]) -> list[str]:
    """The spans as an indented outline, children in start order: name, seconds, status and
    attributes (`dagsmith.` left out; the pipeline, stream and run id only where they change)."""
    children: dict[str, list[Span]] = {}
    ids = {span.span_id for span in spans}
    for span in sorted(spans, key=lambda s: s.start):
        children.setdefault(span.parent_id if span.parent_id in ids else "", []).append(span)
    lines: list[str] = []

    def walk(parent: Span | None, depth: int) -> None:
        for span in children.get(parent.span_id if parent else "", []):
            inherited = parent.attributes if parent else {}
            shown = " ".join(
                f"{key.removeprefix('dagsmith.')}={value}"
                for key, value in span.attributes.items()
                if key not in _IDENTITY or inherited.get(key) != value
            )
            code, message = span.status
            status = f" error: {message.splitlines()[0]}" if code == "error" else ""
            lines.append(f"{'  ' * depth}- {span.name} ({span.seconds:.3f} s){status}  {shown}")
            walk(span, depth + 1)

    walk(None, 0)
    return lines
