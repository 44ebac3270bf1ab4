"""The health task at the end of a generated DAG (`monitor: {task: true}`), run by Airflow
(`dag.test()`) into the real PostgreSQL: it passes after a healthy load and pushes its
gauges; after a load whose contract ignored a new column it fails, without a retry, and the
spec's failure alert reaches a loopback webhook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.dags.checks import expected_tasks
from connectors.dagfile import PROJECT_DIR_ENV
from connectors.spec.io import parse_spec
from tests.conftest import Database
from tests.dags.airflow_helpers import LOGICAL_DATE, deploy, http_server, run, unique
from tests.dags.conftest import _restore_environment, airflow_db  # noqa: F401 (fixtures)
from tests.dags.test_e2e import gateway  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def spec(dag_id: str, schema: str) -> str:
    return f"""
pipeline: {dag_id}
target: warehouse
retries: {{count: 2, delay: 1s, max_delay: 1s}}
alerts: {{on_failure: [{{webhook_env: DAGSMITH_TEST_WEBHOOK}}]}}
monitor: {{task: true}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: {schema}.orders, mode: append}}
    contract: {{new_columns: ignore}}
  - name: refunds
    source: {{kind: csv, path: data/refunds.csv}}
    load: {{table: {schema}.refunds, mode: append}}
"""


def test_the_spec_says_which_tasks_the_health_task_follows() -> None:
    pipeline = parse_spec(spec("shop", "s"))
    assert expected_tasks(pipeline) == {
        "stream_orders": {"health"},
        "stream_refunds": {"health"},
        "health": set(),
    }


def test_the_health_task_passes_then_fails_and_alerts(
    tmp_path: Path,
    postgres: Database,
    monkeypatch: pytest.MonkeyPatch,
    gateway: list[tuple[str, str]],  # noqa: F811
) -> None:
    data = tmp_path / "pipelines" / "data"
    data.mkdir(parents=True)
    (data / "orders.csv").write_text("id,amount\n1,10\n2,20\n")
    (data / "refunds.csv").write_text("id\n7\n")
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    dag_id = unique("health")
    with http_server(lambda _request, _n: (200, {"ok": True})) as (url, seen):
        monkeypatch.setenv("DAGSMITH_TEST_WEBHOOK", url + "/hook")
        dag = deploy(tmp_path, spec(dag_id, postgres.schema or ""))
        assert dag.get_task("health").upstream_task_ids == {"stream_orders", "stream_refunds"}

        state, tis = run(dag)
        assert (state, tis["health"].state) == ("success", "success")
        assert seen == []
        pushed = health_pushes(gateway)
        assert set(pushed) == {"orders", "refunds"}
        assert all('dagsmith_health_ok{check="schema_drift"} 1.0' in b for b in pushed.values())

        (data / "orders.csv").write_text("id,amount,note\n3,30,new\n")
        state, tis = run(dag, LOGICAL_DATE + timedelta(days=1))

    assert state == "failed"
    assert tis["stream_orders"].state == "success" and tis["health"].state == "failed"
    assert tis["health"].try_number == 1  # judging the same records again cannot help
    (hook,) = seen
    assert hook["body"]["task_id"] == "health"
    assert (
        "orders schema_drift: " in hook["body"]["text"] and "ignored note" in hook["body"]["text"]
    )
    assert 'dagsmith_health_ok{check="schema_drift"} 0.0' in health_pushes(gateway)["orders"]


def health_pushes(pushes: list[tuple[str, str]]) -> dict[str, str]:
    """The latest health gauges pushed for each stream (the grouping key ends the path)."""
    return {path.rsplit("/", 1)[1]: body for path, body in pushes if "dagsmith_health_" in body}
