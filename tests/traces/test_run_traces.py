"""`dagsmith run` sends its OpenTelemetry spans to a real OTLP/HTTP receiver on loopback: one
trace per run (run -> stream -> preflight, extract, transform, load), the counts of the run
summary as attributes, failures as error spans without secrets; nothing at all, and nothing
of OpenTelemetry imported, when no OTel setting asks for traces."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import palmerpenguins
import pytest

from connectors import traces
from connectors.connections import resolve_target
from connectors.lineage.names import run_uuid
from connectors.masking import derived_forms
from connectors.plan import plan_stream
from connectors.runtime import Rejects, StreamStats
from connectors.spec.io import load_spec
from tests.conftest import Cli, Database
from tests.sources_rest.conftest import SECRET, Answer, api_server
from tests.traces.receiver import Receiver, Span, receiver, tree

DATA = Path(palmerpenguins.__file__).parent / "data"
PASSWORD = "pg-s3cret-PW"
STAGES = ["extract", "load", "preflight", "transform"]

PENGUINS = """
  - name: penguins
    source: {kind: csv, path: penguins.csv, null_values: ["", "NA"]}
    transform:
      types: {bill_length_mm: float, flipper_length_mm: integer, body_mass_g: integer}
      required: [sex]
      filter: {column: island, op: "!=", value: Torgersen}
    load: {table: TABLE_penguins, mode: append}
"""
MEASURES = """
  - name: measures
    source: {kind: csv, path: penguins-raw.csv, null_values: ["", "NA"]}
    transform:
      rename: {"Individual ID": individual_id, "Species": species, "Body Mass (g)": body_mass_g}
      select: [individual_id, species, body_mass_g]
      types: {body_mass_g: integer}
      ranges: {body_mass_g: {min: 3000}}
    load: {table: TABLE_measures, mode: append}
"""
ORDERS = """
  - name: orders
    source: {kind: rest, connection: api, endpoint: orders, auth: {type: bearer}}
    load: {table: TABLE_orders}
"""


def _project(folder: Path, streams: str, *, target: str | None = None, prefix: str = "") -> None:
    for name in ("penguins.csv", "penguins-raw.csv"):
        shutil.copy(DATA / name, folder / name)
    head = f"pipeline: penguins\n{f'target: {target}' if target else ''}\nstreams:"
    (folder / "p.yaml").write_text(head + streams.replace("TABLE_", prefix), encoding="utf-8")


def _children(spans: list[Span], parent: Span) -> dict[str, Span]:
    return {span.name: span for span in spans if span.parent_id == parent.span_id}


def _counts(span: Span) -> dict[str, Any]:
    return {
        key.removeprefix("dagsmith.rows."): value
        for key, value in span.attributes.items()
        if key.startswith("dagsmith.rows.")
    }


def _root(spans: list[Span]) -> Span:
    (root,) = [span for span in spans if not span.parent_id]
    return root


def test_a_run_is_one_trace_of_its_streams_and_stages(
    tmp_path: Path, dagsmith: Cli, collector: Receiver
) -> None:
    _project(tmp_path, PENGUINS + MEASURES)
    done = dagsmith("run", "p.yaml", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    spans = collector.wait_for(11)
    print("\n".join(tree(spans)))  # the example trace of docs/deploy.md
    assert len(spans) == 11 and set(collector.paths) == {"/v1/traces"}
    run = _root(spans)
    assert {span.trace_id for span in spans} == {run.trace_id}
    assert run.name == "run penguins"
    assert run.attributes == {
        "dagsmith.pipeline": "penguins",
        "dagsmith.run_id": summary["run_id"],
        "dagsmith.streams": 2,
        "dagsmith.failed": 0,
    }
    assert run.status == ("unset", "")
    assert run.resource["service.name"] == "dagsmith"
    streams = _children(spans, run)
    assert sorted(streams) == ["stream measures", "stream penguins"]
    for result in summary["streams"]:
        stream = streams[f"stream {result['stream']}"]
        expected = {k: result[f"rows_{k}"] for k in ("read", "filtered", "rejected", "loaded")}
        assert _counts(stream) == expected
        assert stream.attributes["dagsmith.table"] == result["table"]
        assert stream.attributes["dagsmith.run_id"] == summary["run_id"]
        stages = _children(spans, stream)
        assert sorted(stages) == STAGES
        for stage in stages.values():
            assert stream.start <= stage.start <= stage.end <= stream.end
            assert stage.attributes["dagsmith.stream"] == result["stream"]
            assert stage.attributes["dagsmith.try_number"] == 1
        assert stages["extract"].attributes["dagsmith.rows.out"] == result["rows_read"]
        transform, load = stages["transform"], stages["load"]
        assert _counts(transform)["read"] == result["rows_read"]
        assert _counts(transform)["filtered"] == result["rows_filtered"]
        assert _counts(load) == {
            "loaded": result["rows_loaded"],
            "rejected": result["rows_rejected"],
        }
        for stage in ("extract", "transform", "load"):
            seconds = stages[stage].attributes["dagsmith.stage.seconds"]
            assert seconds == pytest.approx(result["stage_seconds"][stage], abs=0.002)
    assert _counts(streams["stream penguins"]) == {
        "read": 344,
        "filtered": 52,
        "rejected": 6,
        "loaded": 286,
    }


def test_a_failed_stream_is_an_error_span_and_no_secret_leaves(
    tmp_path: Path,
    dagsmith: Cli,
    collector: Receiver,
    postgres: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _project(tmp_path, PENGUINS + ORDERS, target="wh", prefix=f"{postgres.schema}.")
    warehouse = postgres.url.set(password=PASSWORD).render_as_string(hide_password=False)
    with api_server(monkeypatch) as api:
        api.routes["/orders"] = lambda seen: Answer(401, {"error": "no", "echo": seen.headers})
        done = dagsmith("run", "p.yaml", "--json", cwd=tmp_path, env={"AIRFLOW_CONN_WH": warehouse})
    assert done.returncode == 1, done.stderr
    assert any(SECRET in seen.headers.get("Authorization", "") for seen in api.seen)
    summary = {s["stream"]: s for s in json.loads(done.stdout)["streams"]}
    spans = collector.wait_for(11)
    run = _root(spans)
    assert run.status == ("error", "stream(s) failed: orders")
    streams = _children(spans, run)
    assert streams["stream penguins"].status == ("unset", "")
    assert _counts(streams["stream penguins"])["loaded"] == summary["penguins"]["rows_loaded"]
    failed = streams["stream orders"]
    code, message = failed.status
    assert code == "error" and message.startswith("SourceError: ") and "401" in message
    stages = _children(spans, failed)
    assert stages["extract"].status[0] == "error"
    ((event, details),) = stages["extract"].events
    assert event == "exception" and details["exception.type"] == "SourceError"
    assert "***" in details["exception.message"]  # the echoed token, masked
    assert stages["load"].status == ("error", "SourceError from extract")
    sent = b"".join(collector.bodies)
    leaked = {f for s in (SECRET, PASSWORD) for f in derived_forms(s) if f.encode() in sent}
    assert leaked == set()


def test_a_collector_that_is_down_costs_a_warning(tmp_path: Path, dagsmith: Cli) -> None:
    _project(tmp_path, PENGUINS)
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "DAGSMITH_TRACES_TIMEOUT": "1"}
    started = time.monotonic()
    done = dagsmith("run", "p.yaml", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["streams"][0]["rows_loaded"] == 286
    assert time.monotonic() - started < 15
    assert "traces: spans not sent to http://127.0.0.1:9/v1/traces within 1 s" in done.stderr


def test_outside_a_run_a_stream_is_a_trace_named_by_its_lineage_run_id(
    tmp_path: Path, collector: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each Airflow task of a stream does, in one process: the stages' spans hang under
    the stream span, in the trace whose id is the stream run's OpenLineage run id."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "etl")
    _project(tmp_path, PENGUINS)
    spec = load_spec(tmp_path / "p.yaml")
    target = resolve_target(spec.target, tmp_path)
    plan = plan_stream(
        spec,
        "penguins",
        run_id="scheduled__1",
        target=target,
        base_dir=tmp_path,
        project_dir=tmp_path,
    )
    with traces.stream(plan):
        stats = StreamStats()
        rejects = Rejects(plan.run, stats)
        plan.preflight()
        shaped = plan.transform(plan.extract(rejects, stats, None), rejects, stats, None)
        assert sum(batch.num_rows for batch in shaped) == 286
        traces.ended(plan, stats, None, plan.run.started_at)
    spans = collector.wait_for(4)
    stream = _root(spans)
    assert stream.trace_id == uuid.UUID(run_uuid("penguins", "penguins", "scheduled__1")).hex
    assert {s.name: s.parent_id for s in spans if s is not stream} == {
        name: stream.span_id for name in ("preflight", "extract", "transform")
    }
    assert _counts(stream) == {"read": 344, "filtered": 52, "rejected": 6, "loaded": 0}
    assert stream.resource["service.name"] == "etl"


_IMPORTED = """
import sys
from agent.cli.app import main
sys.argv = ["dagsmith", "run", "p.yaml"]
try:
    main()
except SystemExit as done:
    assert not done.code, done.code
print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
"""


@pytest.mark.cli
@pytest.mark.parametrize(
    "settings",
    [{}, {"OTEL_SDK_DISABLED": "true"}, {"OTEL_TRACES_EXPORTER": "none"}],
    ids=["unset", "sdk-disabled", "exporter-none"],
)
def test_off_nothing_is_sent_or_imported(tmp_path: Path, settings: dict[str, str]) -> None:
    _project(tmp_path, PENGUINS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    with receiver() as got:
        if settings:  # an endpoint that another setting turns off
            env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": got.url, **settings}
        done = subprocess.run(
            [sys.executable, "-c", _IMPORTED],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        time.sleep(0.2)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert got.bodies == []


@pytest.mark.parametrize(
    ("settings", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, True),
    ],
)
def test_on_when_the_standard_settings_ask(
    settings: dict[str, str], on: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    assert traces.enabled() is on
