"""A generated DAG, run by Airflow (`dag.test()`), sends the stream's OpenLineage events to a
real receiver on loopback: START from the extract task, COMPLETE from the load task, one
run id for both, the same job, datasets and facets as `dagsmith run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dags.airflow_helpers import csv_project, deploy, run, unique
from tests.lineage import olschema
from tests.lineage.receiver import receiver

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ORDERS = "OrderID,amount,note\n1,10.5,x\n2,oops,y\n3,7,z\n"


def test_a_dag_run_sends_start_and_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = csv_project(tmp_path, ORDERS, monkeypatch, cleared=("OPENLINEAGE",))
    dag_id = unique("lineage")
    dag = deploy(
        tmp_path,
        f"""
pipeline: {dag_id}
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform:
      rename: {{OrderID: order_id}}
      drop: [note]
      types: {{order_id: bigint, amount: "decimal(8,2)"}}
    load: {{table: orders, mode: append}}
""",
    )
    with receiver() as got:
        monkeypatch.setenv("OPENLINEAGE_URL", got.url)
        state, tis = run(dag)
        events = got.wait_for(2)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    for event in events:
        olschema.validate(event)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    start, complete = events
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"]["name"] == f"{dag_id}.orders"
    assert complete["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith("2025-")
    (source,) = complete["inputs"]
    assert (source["namespace"], source["name"]) == ("file", str(data / "orders.csv"))
    assert source["inputFacets"]["dataQualityMetrics"]["rowCount"] == 3
    assert source["inputFacets"]["dataQualityAssertions"]["assertions"][0]["actual"] == "1"
    (table,) = complete["outputs"]
    assert table["name"] == "warehouse.main.orders"
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 2
    fields = table["facets"]["columnLineage"]["fields"]
    assert sorted(fields) == ["amount", "order_id"]
    assert fields["order_id"]["inputFields"][0]["field"] == "OrderID"
