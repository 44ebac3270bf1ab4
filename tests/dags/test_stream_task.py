"""One Airflow task per stream (`dag.test()` into the real PostgreSQL): extract, transform and
load run as phases of that task, visible in its log and XCom, and a retry after a failed load
reuses the staged phases, reads the source once and loads each row once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import (
    LOGICAL_DATE,
    csv_project,
    deploy,
    http_server,
    logged,
    run,
    unique,
)
from tests.dags.conftest import HOME

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

PHASES = ["extract", "transform", "load"]


def test_the_dag_has_one_task_per_stream_then_the_health_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_project(tmp_path, "order_id,amount\n1,2.50\n", monkeypatch)
    dag = deploy(
        tmp_path,
        f"""
pipeline: {unique("one_task")}
monitor: {{task: true}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: orders}}
  - name: refunds
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: refunds}}
""",
    )
    assert {t.task_id: t.downstream_task_ids for t in dag.tasks} == {
        "stream_orders": {"health"},
        "stream_refunds": {"health"},
        "health": set(),
    }
    orders = dag.get_task("stream_orders")
    # The one task reads the source and writes the table: Assets on both sides.
    assert [a.uri for a in orders.inlets] == [f"file://{tmp_path}/pipelines/data/orders.csv"]
    assert [a.uri for a in orders.outlets] == [
        f"duckdb:{tmp_path}/.dagsmith/warehouse.duckdb/warehouse/main/orders"
    ]


def test_a_stream_runs_its_phases_in_one_task_with_each_in_the_log_and_xcom(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_project(tmp_path, "order_id,amount\n1,10.50\n2,3.25\nx,1.00\n", monkeypatch)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    dag = deploy(
        tmp_path,
        f"""
pipeline: {unique("phases")}
target: warehouse
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{order_id: bigint, amount: "decimal(12,2)"}}}}
    load: {{table: {postgres.schema}.orders, mode: upsert, keys: [order_id]}}
""",
    )
    with logged() as lines:
        state, tis = run(dag)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    assert list(tis) == ["stream_orders"]
    assert [(r[0], str(r[1])) for r in postgres.rows(postgres.table("orders"))] == [
        (1, "10.50"),
        (2, "3.25"),
    ]
    ti = tis["stream_orders"]
    result = ti.xcom_pull(task_ids="stream_orders")
    phases = result["phases"]
    assert list(phases) == PHASES
    assert _counts(phases) == {
        "extract": {"rows": 3, "rejected": 0, "reused": False},
        "transform": {
            "rows_read": 3,
            "rows_filtered": 0,
            "rows": 2,
            "rejected": 1,
            "reused": False,
        },
        "load": {"rows": 2, "rejected": 1, "already_loaded": False, "reused": False},
    }
    assert all(phase["seconds"] >= 0 for phase in phases.values())
    assert ti.xcom_pull(task_ids="stream_orders", key="phases") == phases
    assert (result["rows_loaded"], result["rows_rejected"]) == (2, 1)
    for name in PHASES:
        assert f"phase {name}: started" in lines
        assert any(line.startswith(f"phase {name}: done") for line in lines), lines
    said = [line.split(":")[0] for line in lines if line.startswith("phase ")]
    assert said == ["phase extract"] * 2 + ["phase transform"] * 2 + ["phase load"] * 2


def test_a_retry_after_a_failed_load_reuses_the_staged_phases_and_loads_once(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [{"id": n, "name": f"item {n}"} for n in range(1, 6)]
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    spec = f"""
pipeline: {unique("resume")}
target: warehouse
retries: {{count: 1, delay: 1s, exponential: false, max_delay: 1s}}
streams:
  - name: items
    source: {{kind: rest, connection: api, endpoint: items, retry: {{attempts: 1}}}}
    load: {{table: {postgres.schema}.items, mode: append}}
"""
    with http_server(lambda _request, _n: (200, items)) as (url, seen):
        monkeypatch.setenv("AIRFLOW_CONN_API", url)
        dag = deploy(tmp_path, spec)
        assert run(dag)[0] == "success"  # the first day creates the table
        _fail_the_next_load(postgres)
        with logged() as lines:
            state, tis = run(dag, LOGICAL_DATE + timedelta(days=1))
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    ti = tis["stream_items"]
    assert ti.try_number == 2  # the first try's load met the failure
    assert len(seen) == 2  # one request a day: the retry read its staged extract
    assert "phase load: failed" in " ".join(lines)
    assert "phase extract: staged in full by an earlier try, reused" in lines
    phases = ti.xcom_pull(task_ids="stream_items")["phases"]
    assert {name: phase["reused"] for name, phase in phases.items()} == {
        "extract": True,
        "transform": True,
        "load": False,
    }
    assert phases["extract"]["rows"] == 5 and phases["load"]["rows"] == 5
    # Each day's rows once: the failed try's load rolled back whole.
    loaded = postgres.rows(postgres.table("items"), order_by="3, 1")
    days = sorted({str(row[2]) for row in loaded})
    assert [[row[:2] for row in loaded if str(row[2]) == day] for day in days] == [
        [(i["id"], i["name"]) for i in items]
    ] * 2
    assert not list((HOME / "staging" / dag.dag_id).rglob("*.parquet"))


def test_a_task_that_fails_for_good_leaves_nothing_staged(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_project(tmp_path, "order_id\n1\n2\nx\n", monkeypatch)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    dag = deploy(
        tmp_path,
        f"""
pipeline: {unique("for_good")}
target: warehouse
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{order_id: bigint}}, max_rejects: 0}}
    load: {{table: {postgres.schema}.orders}}
""",
    )
    state, tis = run(dag)
    assert state == "failed" and tis["stream_orders"].try_number == 1
    phases = tis["stream_orders"].xcom_pull(task_ids="stream_orders", key="phases")
    assert list(phases) == PHASES and phases["load"]["failed"]
    # Cleared later, the task runs every phase anew from the source as it is then.
    assert [p for p in (HOME / "staging" / dag.dag_id).rglob("*") if p.is_file()] == []


def _counts(phases: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: {k: v for k, v in p.items() if k != "seconds"} for n, p in phases.items()}


def _fail_the_next_load(postgres: Database) -> None:
    """Make the next insert into `items` fail once, with an error PostgreSQL calls transient
    (57P03, cannot connect now). A sequence is not transactional: the failure counts even
    though its transaction rolls back."""
    table = postgres.table("items")
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SEQUENCE {postgres.schema}.loads")
        conn.exec_driver_sql(
            f"CREATE FUNCTION {postgres.schema}.fail_once() RETURNS trigger AS $$ BEGIN "
            f"IF nextval('{postgres.schema}.loads') = 1 THEN "
            "RAISE EXCEPTION 'the database is restarting' USING ERRCODE = '57P03'; END IF; "
            "RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            f"CREATE TRIGGER fail_once BEFORE INSERT ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {postgres.schema}.fail_once()"
        )
