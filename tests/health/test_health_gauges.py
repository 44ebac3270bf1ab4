"""`dagsmith health --push` sends its results to a real Pushgateway beside the runs' own
metrics; a real Prometheus scrapes them with deploy's alert rules, which fire on them."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from connectors.metrics import PUSHGATEWAY_ENV
from tests.deploy.conftest import Server, servers  # noqa: F401 (fixture)
from tests.deploy.test_metrics_stack import wait_for
from tests.health.conftest import Project
from tests.health.test_health_runs import orders
from tests.runs.conftest import dagsmith

pytestmark = pytest.mark.slow

STREAM = """\
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    load: {table: sales.orders, mode: append}
"""


def health_samples(gateway: Server) -> dict[tuple[str, str], float]:
    """(metric, check) -> value of each dagsmith_health sample of shop.orders at the gateway."""
    text = requests.get(f"{gateway.url}/metrics", timeout=5).text
    return {
        (s.name, s.labels.get("check", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("dagsmith_health_") and s.labels.get("stream") == "orders"
    }


def test_pushed_health_gauges_fire_the_health_alerts(
    servers: tuple[Server, Server],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway, prometheus = servers
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    project = Project(tmp_path, "sales", None)
    # A second of freshness: stale by the time Prometheus looks, so the overdue rule matches.
    project.write_spec(STREAM, head="monitor: {freshness: 1s}\n")
    monkeypatch.setenv(PUSHGATEWAY_ENV, gateway.url)
    for rows in (100, 100, 100, 100, 100, 20):
        project.data("orders.csv", orders(rows))
        project.run()

    code, _, err = dagsmith("health", "shop", "--push")

    assert code == 1, err
    pushed = health_samples(gateway)
    assert pushed[("dagsmith_health_ok", "volume")] == 0
    assert pushed[("dagsmith_health_ok", "last_run")] == 1
    assert pushed[("dagsmith_health_freshness_limit_seconds", "")] == 1
    assert pushed[("dagsmith_health_seconds_since_success", "")] > 0
    firing = wait_for(
        prometheus, 'ALERTS{alertname="DagsmithHealthCheckFailed",alertstate="firing"}', 1
    )
    assert [(a["metric"]["stream"], a["metric"]["check"]) for a in firing] == [("orders", "volume")]
    # The overdue rule joins the runs' last success with the pushed limit; it waits 5 minutes.
    overdue = wait_for(prometheus, 'ALERTS{alertname="DagsmithStreamOverdue"}', 1)
    assert overdue[0]["metric"]["alertstate"] == "pending"


def test_push_needs_a_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(PUSHGATEWAY_ENV, raising=False)
    code, _, err = dagsmith("health", "--push")
    assert code == 2 and PUSHGATEWAY_ENV in err
