"""Real HTTP servers on 127.0.0.1 for the REST source tests.

`json_server` is json-server (npm, pinned in server/package.json), a REST server
nobody here wrote: pages, offsets, Link headers. `api` is a small server of our own,
only for what json-server cannot do: cursors, throttling, failures, hangs, OAuth.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow as pa
import pytest

from connectors.sources import read
from connectors.spec.rest import RestSource
from tests.conftest import read_context as context

SERVER_DIR = Path(__file__).parent / "server"
SECRET = "s3cr3t-T0KEN-value"
ORDERS = [
    {
        "id": i,
        "amount": i * 2.5,
        "customer": {"name": f"c{i}", "address": {"city": "Lyon" if i % 2 else "Oslo"}},
        "tags": ["a", "b"] if i % 3 == 0 else [],
    }
    for i in range(1, 26)
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """json-server 0.17 serving `/orders` (25 records); its base URL."""
    with running_json_server(tmp_path_factory.mktemp("json_server"), {"orders": ORDERS}) as url:
        yield url


@contextmanager
def running_json_server(folder: Path, db: dict[str, Any]) -> Iterator[str]:
    """json-server 0.17 serving `db` (collection -> records) from `folder`; its base URL."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("json-server tests need Node.js and npm, which are not installed")
    if not (SERVER_DIR / "node_modules" / "json-server").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True, timeout=600
        )
    (folder / "db.json").write_text(json.dumps(db))
    port = free_port()
    cli = SERVER_DIR / "node_modules" / "json-server" / "lib" / "cli" / "bin.js"
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [node, str(cli), "--host", "127.0.0.1", "--port", str(port), "db.json"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, proc, folder / "server.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"json-server exited: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"json-server did not listen within 30 s: {log.read_text()}")


@dataclass
class Seen:
    """A request as our server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Answer:
    """What a route answers; `raw` replaces the whole body (even an invalid one)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


Route = Callable[[Seen], Answer]


class ApiServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose routes a test sets; it keeps every request it saw."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


class _Handler(BaseHTTPRequestHandler):
    server: ApiServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows what matters."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            dict(self.headers.items()),
            self.rfile.read(length),
            time.monotonic(),
        )
        self.server.seen.append(seen)
        route = self.server.routes.get(parts.path)
        answer = route(seen) if route else Answer(404, {"error": "no such route"})
        body = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        headers = {"Content-Type": "application/json", **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiServer]:
    """Our own server; connection `api` points at it with SECRET as its password."""
    with api_server(monkeypatch) as server:
        yield server


@contextmanager
def api_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiServer]:
    """Our own server, serving until the block ends; connection `api` points at it."""
    server = ApiServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_API", f"http://client:{SECRET}@127.0.0.1:{server.server_address[1]}"
    )
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def http_date(seconds_from_now: float) -> str:
    """An HTTP-date (RFC 9110) this many seconds from now."""
    when = datetime.fromtimestamp(time.time() + seconds_from_now, UTC)
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


def spec(**fields: Any) -> RestSource:
    """A rest source spec on connection `api`, fast retries unless a test says otherwise."""
    base: dict[str, Any] = {
        "kind": "rest",
        "connection": "api",
        "endpoint": "items",
        "retry": {"attempts": 3, "backoff": 0.05, "max_wait": 2},
        "timeout": {"connect": 2, "read": 2},
    }
    return RestSource.model_validate(base | fields)


def read_table(source: RestSource, tmp_path: Path, batch_rows: int = 1000) -> pa.Table:
    """Every batch of a source, with the check that they all share one schema."""
    batches = list(read(source, context(tmp_path, batch_rows)))
    assert batches, "a reader yields at least one batch"
    assert all(b.schema == batches[0].schema for b in batches)
    assert all(b.num_rows <= batch_rows for b in batches)
    return pa.Table.from_batches(batches)
