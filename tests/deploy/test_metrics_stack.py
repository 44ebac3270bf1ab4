"""A real pipeline run pushes its metrics to a real Pushgateway; Prometheus scrapes them and
its alert rules fire on the failed stream."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from connectors.metrics import PUSHGATEWAY_ENV
from connectors.runner import run_pipeline
from connectors.spec import load_spec
from tests.deploy.conftest import Server

pytestmark = pytest.mark.slow


def gateway_samples(gateway: Server) -> dict[tuple[str, str, str], float]:
    """(metric, stream, stage) -> value of every dagsmith sample the gateway exposes."""
    text = requests.get(f"{gateway.url}/metrics", timeout=5).text
    return {
        (s.name, s.labels.get("stream", ""), s.labels.get("stage", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("dagsmith_") and s.labels.get("pipeline") == "shop"
    }


def query(prometheus: Server, promql: str) -> list[dict[str, Any]]:
    reply = requests.get(f"{prometheus.url}/api/v1/query", params={"query": promql}, timeout=5)
    reply.raise_for_status()
    result: list[dict[str, Any]] = reply.json()["data"]["result"]
    return result


def wait_for(prometheus: Server, promql: str, count: int) -> list[dict[str, Any]]:
    """Query until Prometheus returns `count` series (it scrapes and evaluates every second)."""
    deadline = time.monotonic() + 30
    while len(result := query(prometheus, promql)) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"{promql}: {result}")
        time.sleep(0.5)
    return result


def test_a_run_is_pushed_scraped_and_alerted(
    servers: tuple[Server, Server], shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway, prometheus = servers
    monkeypatch.setenv(PUSHGATEWAY_ENV, gateway.url)
    monkeypatch.setenv("AIRFLOW_CTX_TRY_NUMBER", "2")
    spec = load_spec(shop)

    (shop.parent / "refunds.csv").write_text("refund_id,amount\n9,1.00\n")
    first = run_pipeline(spec, base_dir=shop.parent, project_dir=tmp_path)
    assert first.ok
    pushed = gateway_samples(gateway)
    assert pushed[("dagsmith_stream_rows_read", "orders", "")] == 5
    assert pushed[("dagsmith_stream_rows_rejected", "orders", "")] == 2
    assert pushed[("dagsmith_stream_rows_loaded", "orders", "")] == 3
    assert pushed[("dagsmith_stream_rows_loaded", "refunds", "")] == 1
    assert pushed[("dagsmith_stream_try_number", "orders", "")] == 2
    assert pushed[("dagsmith_stream_last_run_failed", "orders", "")] == 0
    assert {stage for (name, _, stage) in pushed if name == "dagsmith_stream_stage_seconds"} == {
        "extract",
        "transform",
        "load",
    }
    succeeded = pushed[("dagsmith_stream_last_success_timestamp_seconds", "refunds", "")]
    assert abs(succeeded - time.time()) < 60

    # The refunds file disappears: that stream fails, orders still loads; the failed push
    # must keep refunds' last success time (freshness) and not touch orders' metrics.
    (shop.parent / "refunds.csv").unlink()
    second = run_pipeline(spec, base_dir=shop.parent, project_dir=tmp_path)
    assert [s.status for s in second.streams] == ["ok", "failed"]
    pushed = gateway_samples(gateway)
    assert pushed[("dagsmith_stream_last_run_failed", "refunds", "")] == 1
    assert pushed[("dagsmith_stream_last_success_timestamp_seconds", "refunds", "")] == succeeded
    assert ("dagsmith_stream_last_failure_timestamp_seconds", "refunds", "") in pushed
    assert pushed[("dagsmith_stream_last_run_failed", "orders", "")] == 0

    loaded = wait_for(prometheus, 'dagsmith_stream_rows_loaded{pipeline="shop"}', 2)
    assert {r["metric"]["stream"]: r["value"][1] for r in loaded} == {"orders": "3", "refunds": "0"}
    assert all(r["metric"]["job"] == "dagsmith" for r in loaded)
    ratio = wait_for(prometheus, 'dagsmith:stream_reject_ratio{stream="orders"}', 1)
    assert float(ratio[0]["value"][1]) == pytest.approx(2 / 5)
    firing = wait_for(prometheus, 'ALERTS{alertname="DagsmithRunFailed",alertstate="firing"}', 1)
    assert [(a["metric"]["pipeline"], a["metric"]["stream"]) for a in firing] == [
        ("shop", "refunds")
    ]
