"""An append stream keyed by Airflow's data interval: re-triggers, clears and backfills of a
date replace its rows, never add them twice (real Airflow, real PostgreSQL)."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import LOGICAL_DATE, deploy, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ROWS = 50_000


def write_orders(path: Path, rows: int, offset: int = 0) -> None:
    """`rows` orders with ids from `offset`."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "amount"])
        writer.writerows((offset + i, f"{i % 997}.25") for i in range(rows))


@pytest.fixture
def project(tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    write_orders(tmp_path / "pipelines" / "data" / "orders.csv", ROWS)
    return tmp_path


def spec(dag_id: str, schema: str) -> str:
    return f"""
pipeline: {dag_id}
schedule: "@daily"
target: warehouse
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{order_id: bigint, amount: "decimal(12,2)"}}}}
    load: {{table: {schema}.orders, mode: append}}
"""


def counts(db: Database) -> dict[str, int]:
    """Rows per data interval in the target."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT _dagsmith_interval, count(*) FROM {db.table('orders')} GROUP BY 1"
        )
        return {interval: n for interval, n in rows}


def test_a_date_run_twice_holds_its_rows_once(project: Path, postgres: Database) -> None:
    dag = deploy(project, spec(unique("interval"), str(postgres.schema)))
    day = LOGICAL_DATE
    assert run(dag, day)[0] == "success"
    first = counts(postgres)
    assert list(first.values()) == [ROWS]

    # A re-trigger: a new run id for the same date.
    again = dag.test(logical_date=day, run_after=day + timedelta(hours=1))
    assert str(again.state) == "success"
    assert counts(postgres) == first

    # A cleared run: the same run id again is found committed and skipped.
    assert run(dag, day)[0] == "success"
    assert counts(postgres) == first

    # A backfill of the next day adds that day; the source shrank, and a re-run of the
    # first day replaces its rows with the source's current ones.
    write_orders(project / "pipelines" / "data" / "orders.csv", 40_000, offset=ROWS)
    assert run(dag, day + timedelta(days=1))[0] == "success"
    assert str(dag.test(logical_date=day, run_after=day + timedelta(hours=2)).state) == "success"
    assert sorted(counts(postgres).values()) == [40_000, 40_000]
    total = postgres.rows(f"{postgres.schema}._dagsmith_runs", order_by="started_at")
    assert len(total) == 4  # every committed run is recorded; the skipped one is not
