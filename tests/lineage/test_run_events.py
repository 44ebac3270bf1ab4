"""`dagsmith run` sends OpenLineage START / COMPLETE / FAIL events to a real receiver on
loopback; every event is valid against the spec's JSON schema (`olschema`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from connectors.lineage import report
from connectors.runner import run_pipeline
from connectors.spec.models import Pipeline
from tests.conftest import Cli, Database
from tests.lineage import olschema
from tests.lineage.receiver import Receiver

ORDERS = """OrderID,Customer,Amount,note
1,ann,10.50,x
2,,20,y
3,bob,abc,z
4,cy,7,w
"""


def _csv_spec(folder: Path) -> Pipeline:
    (folder / "orders.csv").write_text(ORDERS, encoding="utf-8")
    return Pipeline.model_validate(
        {
            "pipeline": "orders_ol",
            "streams": [
                {
                    "name": "orders",
                    "source": {"kind": "csv", "path": "orders.csv"},
                    "transform": {
                        "rename": {"OrderID": "order_id", "Customer": "customer"},
                        "drop": ["note"],
                        "types": {"order_id": "bigint", "amount": "decimal(12,2)"},
                        "fill": {"amount": 0},
                        "required": ["customer"],
                    },
                    "load": {"table": "orders", "mode": "append"},
                }
            ],
        }
    )


def _valid(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for event in events:
        olschema.validate(event)
    return events


def _fields(dataset: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["type"] for f in dataset["facets"]["schema"]["fields"]}


def _lineage(output: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Loaded column -> (source column, descriptions of its transformations)."""
    fields = output["facets"]["columnLineage"]["fields"]
    return {
        column: (
            entry["inputFields"][0]["field"],
            [t["description"] for t in entry["inputFields"][0]["transformations"]],
        )
        for column, entry in fields.items()
    }


def test_csv_to_duckdb_sends_start_and_complete(tmp_path: Path, openlineage: Receiver) -> None:
    summary = run_pipeline(_csv_spec(tmp_path), base_dir=tmp_path, project_dir=tmp_path)
    assert summary.ok
    start, complete = _valid(openlineage.wait_for(2))
    assert openlineage.paths == ["/api/v1/lineage"] * 2
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"] == {
        **complete["job"],
        "namespace": "dagsmith",
        "name": "orders_ol.orders",
    }
    assert complete["run"]["facets"]["parent"]["job"]["name"] == "orders_ol"

    (source,) = complete["inputs"]
    assert (source["namespace"], source["name"]) == ("file", str(tmp_path / "orders.csv"))
    assert _fields(source) == dict.fromkeys(["OrderID", "Customer", "Amount", "note"], "string")
    assert source["inputFacets"]["dataQualityMetrics"]["rowCount"] == 4
    rules = {
        a["assertion"]: a for a in source["inputFacets"]["dataQualityAssertions"]["assertions"]
    }
    assert {rule: (a["actual"], a["success"]) for rule, a in rules.items()} == {
        "required": ("1", False),
        "type": ("1", False),
    }

    (table,) = complete["outputs"]
    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    assert (table["namespace"], table["name"]) == (f"duckdb://{warehouse}", "warehouse.main.orders")
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert _fields(table) == {
        "order_id": "bigint",
        "customer": "string",
        "amount": "decimal(12,2)",
    }
    assert _lineage(table) == {
        "order_id": (
            "OrderID",
            ["renamed from OrderID", "text cleaned (strings)", "cast to bigint"],
        ),
        "customer": ("Customer", ["renamed from Customer", "text cleaned (strings)"]),
        "amount": (
            "Amount",
            [
                "name normalized from Amount",
                "text cleaned (strings)",
                "cast to decimal(12,2)",
                "nulls filled with a constant (fill)",
            ],
        ),
    }
    (deciding,) = table["facets"]["columnLineage"]["dataset"]
    assert deciding["field"] == "Customer"
    assert deciding["transformations"][0]["subtype"] == "FILTER"


@pytest.fixture
def source_table(postgres: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A source table in our schema; connections `src` and `dst` with a password in them."""
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text(
                f'CREATE TABLE "{postgres.schema}".src '
                '("Id" int, "Name" text, price text, secret_note text)'
            )
        )
        conn.execute(
            sa.text(
                f'INSERT INTO "{postgres.schema}".src VALUES '
                "(1, 'a', '1.5', 'x'), (2, 'b', 'oops', 'y'), (3, 'c', '3', 'z')"
            )
        )
    url = postgres.url.set(password="s3cret-PW")
    monkeypatch.setenv("AIRFLOW_CONN_SRC", url.render_as_string(hide_password=False))
    monkeypatch.setenv("AIRFLOW_CONN_DST", url.render_as_string(hide_password=False))
    return postgres


def test_postgres_to_postgres_names_tables_without_secrets(
    tmp_path: Path, source_table: Database, openlineage: Receiver
) -> None:
    schema = source_table.schema
    spec = Pipeline.model_validate(
        {
            "pipeline": "pg_copy",
            "target": "dst",
            "streams": [
                {
                    "name": "items",
                    "source": {"kind": "sql", "connection": "src", "table": f"{schema}.src"},
                    "transform": {
                        "rename": {"Id": "id", "Name": "name"},
                        "select": ["id", "name", "price"],
                        "types": {"price": "decimal(10,2)"},
                    },
                    "load": {"table": f"{schema}.items", "mode": "upsert", "keys": ["id"]},
                }
            ],
        }
    )
    assert run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path).ok
    events = _valid(openlineage.wait_for(2))
    assert "s3cret-PW" not in json.dumps(events)
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    complete = events[1]
    namespace = f"postgres://{source_table.url.host}:{source_table.url.port or 5432}"
    (source,) = complete["inputs"]
    (table,) = complete["outputs"]
    assert (source["namespace"], source["name"]) == (namespace, f"test.{schema}.src")
    assert (table["namespace"], table["name"]) == (namespace, f"test.{schema}.items")
    assert source["inputFacets"]["dataQualityMetrics"]["rowCount"] == 3
    assert table["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert list(_fields(table)) == ["id", "name", "price"]
    assert _fields(table)["price"] == "decimal(10,2)"
    lineage = _lineage(table)
    assert {column: origin for column, (origin, _) in lineage.items()} == {
        "id": "Id",
        "name": "Name",
        "price": "price",
    }
    assert "cast to decimal(10,2)" in lineage["price"][1]
    field = table["facets"]["columnLineage"]["fields"]["id"]["inputFields"][0]
    assert (field["namespace"], field["name"]) == (namespace, f"test.{schema}.src")


def test_a_failed_run_sends_fail(tmp_path: Path, openlineage: Receiver) -> None:
    spec = _csv_spec(tmp_path)
    (tmp_path / "orders.csv").unlink()
    summary = run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path)
    assert not summary.ok
    start, fail = _valid(openlineage.wait_for(2))
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert "orders.csv" in fail["run"]["facets"]["errorMessage"]["message"]


def test_a_receiver_that_is_down_does_not_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")  # discard: nothing listens
    monkeypatch.setenv("DAGSMITH_LINEAGE_TIMEOUT", "1")
    started = time.monotonic()
    summary = run_pipeline(_csv_spec(tmp_path), base_dir=tmp_path, project_dir=tmp_path)
    assert summary.ok
    assert summary.streams[0].stats.rows_loaded == 2
    assert time.monotonic() - started < 20
    assert "lineage" in caplog.text


def test_off_when_openlineage_is_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert not report.enabled()
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:5000")
    assert report.enabled()
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert not report.enabled()


def test_dagsmith_run_sends_events(tmp_path: Path, dagsmith: Cli, openlineage: Receiver) -> None:
    _csv_spec(tmp_path)
    spec = yaml.safe_load(
        """
pipeline: orders_cli
streams:
  - name: orders
    source: {kind: csv, path: orders.csv}
    transform: {rename: {OrderID: order_id}, select: [order_id, amount]}
    load: {table: orders_cli, mode: replace}
"""
    )
    (tmp_path / "orders.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    done = dagsmith("run", "orders.yaml", cwd=tmp_path, env={"OPENLINEAGE_URL": openlineage.url})
    assert done.returncode == 0, done.stderr
    events = _valid(openlineage.wait_for(2))
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    (table,) = events[1]["outputs"]
    assert sorted(_lineage(table)) == ["amount", "order_id"]
