"""A generated DAG with no target, run by Airflow (`dag.test()`), into the embedded DuckDB."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from connectors.connections import env_var
from connectors.dagfile import PROJECT_DIR_ENV
from tests.conftest import Cli, Database
from tests.dags.airflow_helpers import deploy, run, unique

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ORDERS = """order_id,amount,ordered_at
1,10.50,2024-05-01T08:00:00+02:00
1,11.00,2024-05-01T09:00:00+02:00
x,1.00,2024-05-02T00:00:00Z
2,3.25,2024-05-02T10:00:00Z
"""
EVENTS = [
    {"id": 1, "payload": {"items": [{"sku": "a", "qty": 2}], "coupon": None}},
    {"id": 2, "payload": {"items": [], "coupon": "SPRING"}},
]


def spec(dag_id: str) -> str:
    """Two streams into `schema.table` names of the embedded target (the spec names none)."""
    return f"""
pipeline: {dag_id}
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform:
      types: {{order_id: bigint, amount: "decimal(12,2)", ordered_at: timestamptz}}
    load: {{table: sales.orders, mode: upsert, keys: [order_id]}}
  - name: events
    source: {{kind: jsonl, path: data/events.jsonl}}
    transform:
      types: {{payload: json}}
    load: {{table: raw.events, mode: append}}
"""


def test_a_dag_without_target_loads_into_the_embedded_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "pipelines" / "data"
    data.mkdir(parents=True)
    (data / "orders.csv").write_text(ORDERS)
    (data / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    dag = deploy(tmp_path, spec(unique("duckdb_default")))

    state, tis = run(dag)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    state, _ = run(dag)  # the same run id again: nothing is loaded twice
    assert state == "success"

    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        orders = con.execute(
            "SELECT order_id, amount, epoch(ordered_at) FROM sales.orders ORDER BY 1"
        ).fetchall()
        rejects = con.execute("SELECT rule FROM sales.orders__rejects").fetchall()
        events = con.execute(
            "SELECT id, payload->>'$.coupon', json_array_length(payload, '$.items') "
            "FROM raw.events ORDER BY 1"
        ).fetchall()
        runs = con.execute("SELECT stream, rows_loaded FROM sales._dagsmith_runs").fetchall()
    assert orders == [(1, Decimal("11.00"), 1714546800), (2, Decimal("3.25"), 1714644000)]
    assert rejects == [("type",)]
    assert events == [(1, None, 1), (2, "SPRING", 0)]
    assert runs == [("orders", 2)]


def test_a_spec_that_build_wrote_from_a_database_url_runs_in_airflow(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch, dagsmith: Cli
) -> None:
    """`build` saved the URL to the project's `.env`: the DAG's tasks find it there."""
    source = postgres.table("orders").replace('"', "")
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {source} (id int primary key, status text)")
        conn.exec_driver_sql(f"INSERT INTO {source} VALUES (1, 'paid'), (2, 'open')")
    url = postgres.url.render_as_string(hide_password=False)
    dag_id = unique("from_url")
    built = dagsmith(
        "build",
        f"Copy the {source} table from {url} into mart.orders, call it {dag_id}",
        cwd=tmp_path,
        env={"DAGSMITH_MODEL": "offline"},
    )
    assert built.returncode == 0, built.stderr
    assert (tmp_path / ".env").is_file()
    monkeypatch.delenv(env_var(f"{dag_id}_source"), raising=False)
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    dag = deploy(tmp_path, (tmp_path / "pipelines" / f"{dag_id}.yaml").read_text())

    state, tis = run(dag)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT id, status FROM mart.orders ORDER BY 1").fetchall()
    assert rows == [(1, "paid"), (2, "open")]
