"""`dagsmith check` runs ruff's security rules on the DAG files: what the templates write
passes, and a DAG someone edited to hold a dangerous call fails with its line and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.dags.dagfiles import check_pipelines, render_all, write_dags
from agent.dags.render import render
from agent.security.code import scan_text
from connectors.spec import parse_spec

EVERYTHING = """
pipeline: every_feature
description: "Uses each part of the templates: alerts, upstream, health, access"
schedule: {after: ["postgresql://db:5432/shop/public/orders"]}
alerts:
  on_failure: [{email: ops@example.com}]
  on_success: [{webhook_env: SLACK_URL}]
monitor: {task: true}
owner: data
tags: [sales]
access: {sales_analyst: [read, trigger]}
streams:
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    load: {table: orders, mode: upsert, keys: [id]}
    incremental: {cursor: updated_at}
  - name: customers
    source: {kind: jsonl, path: data/customers.jsonl}
    load: {table: customers}
"""


def test_what_the_templates_write_breaks_no_security_rule() -> None:
    dag = render(parse_spec(EVERYTHING), Path("pipelines/p.yaml"), Path("dags"))
    assert "access_control=" in dag.text and "def notify_failure" in dag.text
    assert scan_text(dag.text, dag.path, Path.cwd()) == []


@pytest.mark.usefixtures("airflow_db")
def test_check_fails_on_a_dangerous_call_added_to_a_dag(tmp_path: Path) -> None:
    spec = tmp_path / "pipelines" / "every_feature.yaml"
    spec.parent.mkdir()
    spec.write_text(EVERYTHING)
    write_dags(render_all([spec], tmp_path / "dags"))
    (clean,) = check_pipelines([spec], tmp_path / "dags")
    assert clean.problems == []

    dag = tmp_path / "dags" / "every_feature.py"
    # Never called: the check reads the code, Airflow's import must not run it.
    text = dag.read_text() + "\n\ndef _debug() -> None:\n    eval(SPEC_DIR)  # noqa: S307\n"
    dag.write_text(text)
    (edited,) = check_pipelines([spec], tmp_path / "dags")
    line = len(text.splitlines())
    security = [p for p in edited.problems if "ruff's security rules" in p]
    assert len(security) == 1
    assert f"every_feature.py:{line}: S307" in security[0]  # a noqa in a DAG counts for nothing
