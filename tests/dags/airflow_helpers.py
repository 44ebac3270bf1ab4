"""Deploy a spec into the test Airflow's DAGs folder, run it with `dag.test()`, and serve
loopback HTTP (sources, webhooks) and SMTP (email alerts)."""

from __future__ import annotations

import json
import logging
import os
import socketserver
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agent.dags.dagfiles import render_all, write_dags
from connectors.dagfile import PROJECT_DIR_ENV
from tests.dags.conftest import DAGS_FOLDER

LOGICAL_DATE = datetime(2025, 3, 1, tzinfo=UTC)


def unique(prefix: str) -> str:
    """A DAG id no other test uses (they share one Airflow database and DAGs folder)."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def deploy(project: Path, spec_yaml: str) -> Any:
    """Write the spec to `project/pipelines/`, render its DAG into the DAGs folder, import it."""
    from airflow.dag_processing.dagbag import DagBag

    spec_path = project / "pipelines" / "spec.yaml"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(spec_yaml, encoding="utf-8")
    (dag,) = render_all([spec_path], DAGS_FOLDER)
    write_dags([dag])
    bag = DagBag(dag_folder=dag.path, safe_mode=False, load_op_links=False)
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag.spec.pipeline]


def csv_project(
    project: Path, orders: str, monkeypatch: Any, cleared: tuple[str, ...] = ()
) -> Path:
    """`project` with `pipelines/data/orders.csv` holding `orders`, as the DAGs' project, and
    no environment variable starting with one of `cleared` (a receiver's settings)."""
    data = project / "pipelines" / "data"
    data.mkdir(parents=True)
    (data / "orders.csv").write_text(orders)
    monkeypatch.setenv(PROJECT_DIR_ENV, str(project))
    for name in [n for n in os.environ if cleared and n.startswith(cleared)]:
        monkeypatch.delenv(name)
    return data


def run(dag: Any, logical_date: datetime = LOGICAL_DATE) -> tuple[str, dict[str, Any]]:
    """Run the DAG once for a logical date; the run's state and its task instances by id.

    `run_after` is fixed too, so a second call is the same run id again: what clearing a
    run in Airflow does.
    """
    dag_run = dag.test(logical_date=logical_date, run_after=logical_date)
    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    return str(dag_run.state), tis


@contextmanager
def logged() -> Iterator[list[str]]:
    """The messages of the `dagsmith` logger meanwhile, however Airflow routes its logs."""
    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("dagsmith")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


Handler = Callable[[BaseHTTPRequestHandler, int], tuple[int, Any]]


@contextmanager
def http_server(handler: Handler) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP server: `handler(request, n)` answers the n-th request (from 1).

    Yields its base URL and the requests it received (method, path, JSON body).
    """
    seen: list[dict[str, Any]] = []

    class Handle(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            seen.append({"method": self.command, "path": self.path, "body": body})
            status, payload = handler(self, len(seen))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: every command is accepted, messages are kept."""

    messages: list[str]

    def handle(self) -> None:
        self.wfile.write(b"220 localhost\r\n")
        body: list[str] | None = None
        for raw in self.rfile:
            line = raw.decode(errors="replace").rstrip("\r\n")
            if body is not None:
                if line == ".":
                    self.messages.append("\n".join(body))
                    body = None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line)
                continue
            verb = line[:4].upper()
            if verb == "DATA":
                body = []
            reply = {"DATA": b"354 go on\r\n", "QUIT": b"221 bye\r\n"}.get(verb, b"250 ok\r\n")
            self.wfile.write(reply)
            if verb == "QUIT":
                return


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    """A loopback SMTP server; yields its port and the messages it received."""
    messages: list[str] = []
    handler = type("Smtp", (_Smtp,), {"messages": messages})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], messages
    finally:
        server.shutdown()
        server.server_close()
