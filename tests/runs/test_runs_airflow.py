"""A DAG run by Airflow (`dag.test()`) leaves the same run records as `dagsmith run`:
`dagsmith runs` lists its streams under Airflow's run id, the one that failed with its error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dags.airflow_helpers import csv_project, deploy, run, unique
from tests.dags.conftest import _restore_environment, airflow_db  # noqa: F401 (fixtures)
from tests.runs.conftest import dagsmith

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ORDERS = "id,amount\n1,10\n2,-1\n3,7\n"


def test_dagsmith_runs_lists_an_airflow_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_project(tmp_path, ORDERS, monkeypatch)
    dag_id = unique("runs")
    streams = "".join(
        f"""  - name: {name}
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{id: bigint, amount: bigint}}, ranges: {{amount: {{min: 0}}}}, """
        f"""max_rejects: {limit}}}
    load: {{table: {name}, mode: append}}
"""
        for name, limit in (("loose", 5), ("strict", 0))
    )
    dag = deploy(tmp_path, f"pipeline: {dag_id}\nretries: {{count: 0}}\nstreams:\n{streams}")

    state, tis = run(dag)

    assert state == "failed", {k: ti.state for k, ti in tis.items()}
    run_id = next(iter(tis.values())).run_id
    monkeypatch.chdir(tmp_path)
    code, out, err = dagsmith("runs", dag_id, "--json")
    assert code == 0, err
    by_stream = {record["stream"]: record for record in json.loads(out)}
    assert {record["run_id"] for record in by_stream.values()} == {run_id}
    loose, strict = by_stream["loose"], by_stream["strict"]
    assert (loose["status"], loose["rows_read"], loose["rows_rejected"]) == ("ok", 3, 1)
    assert loose["rows_loaded"] == 2
    assert strict["status"] == "failed" and "max_rejects is 0" in strict["error"]
    code, out, err = dagsmith("runs", "show", run_id, "--json")
    assert code == 0, err
    shown = {record["stream"]: record for record in json.loads(out)}
    assert [r["rule"] for r in shown["loose"]["rejected_by_rule"]] == ["range"]
