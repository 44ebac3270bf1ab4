"""An incremental stream with rules through a generated DAG's stream task:
on the next day's run the old bad rows are left out by the watermark, not rejected again,
and the counts add up as under `dagsmith run`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import LOGICAL_DATE, deploy, run, unique
from tests.test_incremental_counts import SHIPMENTS

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def test_the_next_days_run_rejects_no_old_row_again(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    source = tmp_path / "pipelines" / "data" / "shipments.csv"
    source.parent.mkdir(parents=True)
    source.write_text(SHIPMENTS)
    dag = deploy(
        tmp_path,
        f"""
pipeline: {unique("incremental")}
schedule: "@daily"
target: warehouse
streams:
  - name: shipments
    source: {{kind: csv, path: data/shipments.csv}}
    transform:
      types: {{id: text, shipped_on: date, qty: bigint, weight: float}}
      ranges: {{weight: {{min: 0}}}}
    load: {{table: {postgres.table("shipments")}, mode: upsert, keys: [id]}}
    incremental: {{cursor: shipped_on}}
""",
    )
    loads = []
    for day in range(2):
        if day:
            with source.open("a") as out:
                out.write("S-6,2026-10-06,6,6.5\n")
        state, tis = run(dag, LOGICAL_DATE + timedelta(days=day))
        assert state == "success", {k: ti.state for k, ti in tis.items()}
        loads.append(tis["stream_shipments"].xcom_pull(task_ids="stream_shipments"))
    counts = [
        tuple(load[f"rows_{n}"] for n in ("filtered", "rejected", "loaded")) for load in loads
    ]
    assert counts == [(0, 2, 3), (5, 0, 1)]
    with postgres.engine.connect() as conn:
        recorded = conn.exec_driver_sql(
            "SELECT rows_read, rows_filtered, rows_rejected, rows_loaded "
            f"FROM {postgres.table('_dagsmith_runs')} ORDER BY started_at"
        ).all()
        rejected = conn.exec_driver_sql(
            f"SELECT row_number, count(*) FROM {postgres.table('shipments__rejects')} "
            "GROUP BY 1 ORDER BY 1"
        ).all()
    assert [tuple(row) for row in recorded] == [(5, 0, 2, 3), (6, 5, 0, 1)]
    assert [tuple(row) for row in rejected] == [(3, 1), (4, 1)]
