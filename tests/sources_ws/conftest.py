"""A real WebSocket server on 127.0.0.1 (websockets' own sync server, in a thread) for the
`kind: websocket` tests.

Each connection the server accepts plays the next `Script` of `FeedServer.scripts` (the
last one again once they run out) and is recorded as a `Session`: the path, the
handshake's headers and every message the client sent (its subscribe).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from connectors.sources import read
from connectors.spec.websocket import WebSocketSource
from tests.conftest import read_context

TOKEN = "s3cr3t-WS-token-value"
SERVER_LOG = logging.getLogger("tests.sources_ws.server")
"""The test server's own log, kept out of `caplog` (the server sees the token, of course)."""
SERVER_LOG.setLevel(logging.WARNING)


@dataclass
class Session:
    """One connection as the server saw it."""

    path: str
    headers: dict[str, str]
    received: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Script:
    """What the server does on one connection: wait for `subscribes` messages, send
    `messages` (every `every` seconds), then end as `then` says: `hold` keeps the connection
    open without a word, `drop` cuts the TCP connection with no close frame, `close` sends a
    normal close (1000), `restart` closes with 1012 (service restart)."""

    messages: tuple[Any, ...] = ()
    subscribes: int = 1
    every: float = 0.0
    then: str = "hold"
    endless: bool = False
    """Keep sending `messages` over and over until the client goes away."""


@dataclass
class FeedServer:
    """The server's scripts and what it saw; `url` is its ws:// base URL."""

    server: Server
    scripts: list[Script] = field(default_factory=lambda: [Script()])
    sessions: list[Session] = field(default_factory=list)
    refuse: int | None = None
    """Answer every handshake with this HTTP status instead."""

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}"

    def handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        session = Session(request.path, {k.lower(): v for k, v in request.headers.raw_items()})
        self.sessions.append(session)
        script = self.scripts[min(len(self.sessions), len(self.scripts)) - 1]
        try:
            for _ in range(script.subscribes):
                session.received.append(str(ws.recv(timeout=5)))
            _play(ws, script)
        except (ConnectionClosed, TimeoutError):
            return

    def check(self, ws: ServerConnection, request: Request) -> Response | None:
        return None if self.refuse is None else ws.respond(self.refuse, "refused\n")


def _play(ws: ServerConnection, script: Script) -> None:
    while True:
        for message in script.messages:
            ws.send(message if isinstance(message, str | bytes) else json.dumps(message))
            time.sleep(script.every)
        if not script.endless:
            break
    if script.then == "drop":
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.socket.close()
    elif script.then == "close":
        ws.close()
    elif script.then == "restart":
        ws.close(code=1012)
    else:
        for _ in ws:  # until the client closes
            pass


@pytest.fixture
def feed(monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """A WebSocket server on a free port of 127.0.0.1; `AIRFLOW_CONN_FEED` points at it
    with a bearer token (`wss://TOKEN@host` style: the login alone)."""
    holder: list[FeedServer] = []
    server = serve(
        lambda ws: holder[0].handle(ws),
        "127.0.0.1",
        0,
        process_request=lambda ws, request: holder[0].check(ws, request),
        ping_interval=None,
        logger=SERVER_LOG,
    )
    holder.append(FeedServer(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.socket.getsockname()[:2]
    monkeypatch.setenv("AIRFLOW_CONN_FEED", f"ws://{TOKEN}@{host}:{port}/v1")
    try:
        yield holder[0]
    finally:
        server.shutdown()
        thread.join(timeout=10)


def spec(**fields: Any) -> WebSocketSource:
    """A websocket source on the `feed` connection: quick bounds and backoff for tests."""
    defaults: dict[str, Any] = {
        "kind": "websocket",
        "connection": "feed",
        "endpoint": "trades",
        "subscribe": {"op": "subscribe", "channel": "trades"},
        "max_seconds": 5,
        "reconnect": {"attempts": 3, "backoff": 0.05, "max_wait": 0.2},
    }
    return WebSocketSource.model_validate({**defaults, **fields})


def read_table(source: WebSocketSource, folder: Path, batch_rows: int = 1000) -> pa.Table:
    """Every record the source reads, as one table."""
    return read_with(source, folder, batch_rows)[0]


def read_with(
    source: WebSocketSource, folder: Path, batch_rows: int = 1000
) -> tuple[pa.Table, pa.Table]:
    """The records the source reads (a quiet feed gives no batch), and the rejects."""
    ctx = read_context(folder, batch_rows)
    batches = list(read(source, ctx))
    table = pa.Table.from_batches(batches) if batches else pa.table({})
    return table, ctx.rejects.table()
