"""A Kafka stream as Airflow runs it (`dag.test()`): the offsets the extract task reached
commit with the load task's transaction, as in `dagsmith run`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from connectors.dagfile import PROJECT_DIR_ENV
from tests.dags.airflow_helpers import LOGICAL_DATE, deploy, run, unique
from tests.sources_kafka.conftest import Broker, kafka  # noqa: F401 - the broker fixture

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def test_a_kafka_dag_loads_each_message_once_across_runs_and_reruns(
    kafka: Broker,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i} for i in range(500)))
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS", kafka.url)
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    dag = deploy(
        tmp_path,
        f"""
pipeline: {unique("kafka")}
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: kafka, connection: events, topics: [{topic}], metadata: [offset]}}
    load: {{table: raw.orders, mode: append}}
""",
    )
    state, tis = run(dag)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    state, _ = run(dag)  # the same run again (cleared): already loaded, nothing twice
    assert state == "success"
    kafka.produce(topic, ({"id": i} for i in range(500, 600)))
    state, _ = run(dag, LOGICAL_DATE + timedelta(days=1))
    assert state == "success"

    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        ids = [row[0] for row in con.execute("SELECT id FROM raw.orders ORDER BY id").fetchall()]
        runs = con.execute("SELECT rows_loaded FROM raw._dagsmith_runs ORDER BY 1").fetchall()
    assert ids == list(range(600))
    assert runs == [(100,), (500,)]
