"""A stream's schema contract as Airflow runs it (`dag.test()`): the load task settles it
with the table as `dagsmith run` does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from connectors.dagfile import PROJECT_DIR_ENV
from tests.dags.airflow_helpers import LOGICAL_DATE, deploy, run, unique

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def _spec(dag_id: str, contract: str) -> str:
    return f"""
pipeline: {dag_id}
retries: {{count: 0}}
streams:
  - name: customers
    source: {{kind: csv, path: data/customers.csv}}
    transform: {{types: {{id: bigint}}}}
    load: {{table: crm.customers, mode: upsert, keys: [id]}}
    {contract}
"""


def test_a_dag_adds_the_column_its_contract_allows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "pipelines" / "data"
    data.mkdir(parents=True)
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    dag_id = unique("contract")
    (data / "customers.csv").write_text("id,name\n1,ann\n")
    state, _ = run(deploy(tmp_path, _spec(dag_id, "")))
    assert state == "success"

    (data / "customers.csv").write_text("id,name,email\n1,ann,ann@example.com\n2,bo,\n")
    refused, _ = run(deploy(tmp_path, _spec(dag_id, "")), LOGICAL_DATE + timedelta(days=1))
    dag = deploy(tmp_path, _spec(dag_id, "contract: {new_columns: add}"))
    state, tis = run(dag, LOGICAL_DATE + timedelta(days=2))
    assert (refused, state) == ("failed", "success"), {k: ti.state for k, ti in tis.items()}

    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT id, name, email FROM crm.customers ORDER BY id").fetchall()
    assert rows == [(1, "ann", "ann@example.com"), (2, "bo", None)]
