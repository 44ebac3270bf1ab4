"""A generated DAG, run by Airflow (`dag.test()`), traces each stream run as one trace across
the tries of its task: their spans share the trace id derived from the stream run (its
OpenLineage run id) and hang under the one stream span, which the try that ends the stream
run sends; a stream that fails for good is an error span."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.dagfile import PROJECT_DIR_ENV
from connectors.lineage.names import run_uuid
from tests.dags.airflow_helpers import csv_project, deploy, http_server, run, unique
from tests.traces.receiver import Span, receiver, tree

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ORDERS = "OrderID,amount,note\n1,10.5,x\n2,oops,y\n3,7,z\n"


def test_each_stream_run_is_one_trace_across_its_tasks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_project(tmp_path, ORDERS, monkeypatch, cleared=("OTEL_", "OPENLINEAGE"))
    dag_id = unique("traces")
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
      types: {{order_id: bigint, amount: "decimal(8,2)"}}
    load: {{table: orders, mode: append}}
  - name: gone
    source: {{kind: csv, path: data/missing.csv}}
    load: {{table: gone, mode: append}}
""",
    )
    with receiver() as got:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", got.url)
        state, tis = run(dag)
        spans = got.wait_for(8)
    print("\n".join(tree(spans)))
    assert state == "failed"
    assert tis["stream_orders"].state == "success" and tis["stream_gone"].state == "failed"
    run_id = tis["stream_orders"].run_id
    traces = {span.trace_id for span in spans}
    assert len(traces) == 2 and len(spans) == 8

    orders = _trace(spans, dag_id, "orders", run_id)
    stream = _root(orders)
    assert stream.name == "stream orders" and stream.status == ("unset", "")
    assert {s.name: s.parent_id for s in orders if s is not stream} == {
        name: stream.span_id for name in ("preflight", "extract", "transform", "load")
    }
    assert {k: v for k, v in stream.attributes.items() if k.startswith("dagsmith.rows.")} == {
        "dagsmith.rows.read": 3,
        "dagsmith.rows.filtered": 0,
        "dagsmith.rows.rejected": 1,
        "dagsmith.rows.loaded": 2,
    }
    assert stream.attributes["dagsmith.run_id"] == run_id
    stages = {s.name: s for s in orders}
    assert stream.start <= stages["extract"].start < stages["load"].end <= stream.end
    assert stages["transform"].attributes["dagsmith.rows.out"] == 2
    assert stages["load"].attributes["dagsmith.rows.loaded"] == 2

    gone = _trace(spans, dag_id, "gone", run_id)
    assert sorted(s.name for s in gone) == ["extract", "preflight", "stream gone"]
    failed = _root(gone)
    assert failed.status[0] == "error" and "missing.csv" in failed.status[1]
    assert {s.name: s.status[0] for s in gone} == {
        "stream gone": "error",
        "preflight": "unset",
        "extract": "error",
    }


def test_a_retried_task_joins_the_trace_and_the_stream_span_is_sent_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(_request: Any, n: int) -> tuple[int, Any]:
        return (503, {"error": "busy"}) if n == 1 else (200, [{"id": 1}, {"id": 2}])

    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    for name in [n for n in os.environ if n.startswith(("OTEL_", "OPENLINEAGE"))]:
        monkeypatch.delenv(name)
    dag_id = unique("traces_retry")
    spec = f"""
pipeline: {dag_id}
retries: {{count: 1, delay: 1s, exponential: false, max_delay: 1s}}
streams:
  - name: items
    source: {{kind: rest, connection: api, endpoint: items, retry: {{attempts: 1}}}}
    load: {{table: items, mode: append}}
"""
    with http_server(flaky) as (url, _), receiver() as got:
        monkeypatch.setenv("AIRFLOW_CONN_API", url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", got.url)
        state, tis = run(deploy(tmp_path, spec))
        spans = got.wait_for(7)
    assert state == "success" and tis["stream_items"].try_number == 2
    assert sorted(s.name for s in spans) == [
        "extract",
        "extract",
        "load",
        "preflight",
        "preflight",
        "stream items",
        "transform",
    ]
    stream = _root(spans)
    assert _trace(spans, dag_id, "items", tis["stream_items"].run_id) == spans
    assert {s.parent_id for s in spans if s is not stream} == {stream.span_id}
    tries = sorted(
        (s.attributes["dagsmith.try_number"], s.status[0]) for s in spans if s.name == "extract"
    )
    assert tries == [(1, "error"), (2, "unset")]
    assert stream.status == ("unset", "")
    assert stream.attributes["dagsmith.rows.loaded"] == 2


def _trace(spans: list[Span], pipeline: str, stream: str, run_id: str) -> list[Span]:
    """The spans of one stream run's trace, whose id is the stream run's OpenLineage run id."""
    trace_id = uuid.UUID(run_uuid(pipeline, stream, run_id)).hex
    return [span for span in spans if span.trace_id == trace_id]


def _root(spans: list[Span]) -> Span:
    (root,) = [span for span in spans if not span.parent_id]
    return root
