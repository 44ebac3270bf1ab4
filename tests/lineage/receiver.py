"""A real OpenLineage receiver on loopback: an HTTP server collecting the events posted."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """The events received (JSON bodies of POSTs to /api/v1/lineage), in order."""

    url: str
    events: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The events once `count` have come (those so far after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.events)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (a free port) until the block ends."""
    events: list[dict[str, Any]] = []
    paths: list[str] = []

    class Handle(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            paths.append(self.path)
            events.append(json.loads(self.rfile.read(length)))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    got = Receiver(f"http://127.0.0.1:{server.server_port}", events, paths)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
