"""Generated DAGs run by Airflow (`dag.test()`) into the real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, http_server, run, smtp_server, unique
from tests.dags.conftest import HOME

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

CSV = "order_id,amount,{{ ds }}\n1,10.50,first\n2,3.25,\nx,1.00,bad\n"


@pytest.fixture
def project(tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, with the test's PostgreSQL schema as connection `warehouse`."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    (tmp_path / "pipelines" / "data" / "orders.csv").write_text(CSV)
    return tmp_path


def files_spec(dag_id: str, schema: str) -> str:
    """A CSV stream and a SQL stream, in parallel, with values Jinja would evaluate."""
    return f"""
pipeline: {dag_id}
description: "Orders {{{{ var.value.missing }}}} {{% raw %}}"
target: warehouse
retries: {{count: 1, delay: 1s, max_delay: 2s}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform:
      rename: {{"{{{{ ds }}}}": note}}
      types: {{order_id: bigint, amount: "decimal(12,2)"}}
      fill: {{note: "{{{{ run_id }}}}"}}
    load: {{table: {schema}.orders, mode: append}}
  - name: customers
    source: {{kind: sql, connection: warehouse, table: {schema}.customers_src}}
    load: {{table: {schema}.customers, mode: append}}
"""


class _Gateway(BaseHTTPRequestHandler):
    """Stands in for a Prometheus Pushgateway: keeps each push's path and text body."""

    pushes: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.pushes.append((self.path, body.decode(errors="replace")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Gateway.pushes.clear()
    monkeypatch.setenv("DAGSMITH_PUSHGATEWAY_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield _Gateway.pushes
    server.shutdown()


def test_csv_and_sql_streams_load_and_a_rerun_loads_nothing_twice(
    project: Path, postgres: Database, gateway: list[tuple[str, str]]
) -> None:
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {postgres.schema}.customers_src (id int, name text)")
        conn.exec_driver_sql(
            f"INSERT INTO {postgres.schema}.customers_src VALUES (1, 'Ada'), (2, '{{{{ ds }}}}')"
        )
    dag = deploy(project, files_spec(unique("e2e_files"), str(postgres.schema)))
    state, tis = run(dag)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    orders = [(1, "10.50", "first"), (2, "3.25", "{{ run_id }}")]
    loaded = [(r[0], str(r[1]), r[2]) for r in postgres.rows(postgres.table("orders"))]
    # The fill value and the renamed `{{ ds }}` column arrive as written: Airflow rendered
    # no spec value as a template.
    assert loaded == orders
    # Each row carries the run's data interval, so a new run of the date replaces it.
    interval = "2025-03-01T00:00:00+00:00/2025-03-01T00:00:00+00:00"
    assert postgres.rows(postgres.table("customers")) == [
        (1, "Ada", interval),
        (2, "{{ ds }}", interval),
    ]
    with postgres.engine.connect() as conn:
        rules = conn.exec_driver_sql(f"SELECT rule FROM {postgres.table('orders__rejects')}")
        assert [rule for (rule,) in rules] == ["type"]
    assert not list((HOME / "staging" / dag.dag_id).rglob("*.parquet"))
    # Each load task pushed its stream's metrics, grouped by pipeline and stream.
    paths = sorted(path for path, _ in gateway)
    assert paths == sorted(
        f"/metrics/job/dagsmith/pipeline/{dag.dag_id}/stream/{name}"
        for name in ("customers", "orders")
    )
    orders_push = next(body for path, body in gateway if path.endswith("/orders"))
    assert "dagsmith_stream_rows_loaded 2.0" in orders_push

    state, _ = run(dag)  # the same logical date and run id again (a cleared run)
    assert state == "success"
    with postgres.engine.connect() as conn:
        runs = conn.exec_driver_sql(f"SELECT count(*) FROM {postgres.table('_dagsmith_runs')}")
        assert runs.scalar() == 2  # one committed run per stream, found and not loaded again
    again = [(r[0], str(r[1]), r[2]) for r in postgres.rows(postgres.table("orders"))]
    assert again == orders
    assert len(postgres.rows(postgres.table("customers"))) == 2


def flaky_items(_request: Any, n: int) -> tuple[int, Any]:
    """503 on the first request, then the records."""
    if n == 1:
        return 503, {"error": "busy"}
    return 200, [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]


def test_a_flaky_rest_source_recovers_through_airflow_retries(
    project: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_server(flaky_items) as (url, seen):
        monkeypatch.setenv("AIRFLOW_CONN_API", url)
        spec = f"""
pipeline: {unique("e2e_rest")}
target: warehouse
retries: {{count: 2, delay: 1s, exponential: false, max_delay: 1s}}
streams:
  - name: items
    source: {{kind: rest, connection: api, endpoint: items, retry: {{attempts: 1}}}}
    load: {{table: {postgres.schema}.items, mode: upsert, keys: [id]}}
"""
        state, tis = run(deploy(project, spec))
    assert state == "success"
    assert len(seen) == 2
    assert tis["stream_items"].try_number == 2  # the first try met the 503
    assert postgres.rows(postgres.table("items")) == [(1, "one"), (2, "two")]


def test_a_terminal_error_fails_without_retry_and_fires_the_failure_alerts(
    project: Path,
    postgres: Database,
    monkeypatch: pytest.MonkeyPatch,
    gateway: list[tuple[str, str]],
) -> None:
    with (
        http_server(lambda _request, _n: (200, {"ok": True})) as (url, seen),
        smtp_server() as (smtp_port, mails),
    ):
        monkeypatch.setenv("DAGSMITH_TEST_WEBHOOK", url + "/hook")
        for key, value in {
            "HOST": "127.0.0.1",
            "PORT": str(smtp_port),
            "STARTTLS": "False",
            "SSL": "False",
            "MAIL_FROM": "dagsmith@example.com",
        }.items():
            monkeypatch.setenv(f"AIRFLOW__SMTP__SMTP_{key}", value)
        dag_id = unique("e2e_fail")
        spec = f"""
pipeline: {dag_id}
target: warehouse
retries: {{count: 3, delay: 1s, max_delay: 1s}}
alerts: {{on_failure: [{{webhook_env: DAGSMITH_TEST_WEBHOOK}}, {{email: ops@example.com}}]}}
streams:
  - name: orders
    source: {{kind: csv, path: data/missing.csv}}
    load: {{table: {postgres.schema}.orders}}
"""
        state, tis = run(deploy(project, spec))
    assert state == "failed"
    assert tis["stream_orders"].state == "failed"
    assert tis["stream_orders"].try_number == 1  # a missing file is not worth a retry
    phases = tis["stream_orders"].xcom_pull(task_ids="stream_orders", key="phases")
    assert list(phases) == ["extract"] and phases["extract"]["failed"]
    (hook,) = seen
    assert hook["method"] == "POST" and hook["path"] == "/hook"
    assert hook["body"]["dag_id"] == dag_id
    assert hook["body"]["task_id"] == "stream_orders"
    assert "missing.csv" in hook["body"]["text"]
    # The failed extract is pushed as a failed run, so the failed-run alert fires.
    ((path, body),) = gateway
    assert path.endswith(f"/pipeline/{dag_id}/stream/orders")
    assert "dagsmith_stream_last_run_failed 1.0" in body
    (mail,) = mails
    assert "To: ops@example.com" in mail
    assert f"dagsmith: {dag_id} run" in mail


def test_an_incremental_stream_loads_only_rows_past_the_stored_watermark(
    project: Path, postgres: Database
) -> None:
    events = project / "pipelines" / "data" / "events.csv"
    events.write_text("id,note,updated_at\n1,a,2025-01-01T00:00:00Z\n2,b,2025-01-02T00:00:00Z\n")
    spec = f"""
pipeline: {unique("e2e_incr")}
target: warehouse
streams:
  - name: events
    source: {{kind: csv, path: data/events.csv}}
    transform: {{types: {{id: bigint, updated_at: timestamptz}}}}
    load: {{table: {postgres.schema}.events, mode: upsert, keys: [id]}}
    incremental: {{cursor: updated_at}}
"""
    dag = deploy(project, spec)
    assert run(dag, datetime(2025, 1, 2, tzinfo=UTC))[0] == "success"
    # Row 1 changed without moving its cursor: not past the watermark, so not read again.
    events.write_text(
        events.read_text().replace("1,a,", "1,changed,") + "3,c,2025-01-03T00:00:00Z\n"
    )
    assert run(dag, datetime(2025, 1, 3, tzinfo=UTC))[0] == "success"
    rows = [(r[0], r[1]) for r in postgres.rows(postgres.table("events"))]
    assert rows == [(1, "a"), (2, "b"), (3, "c")]
