"""A project whose one pipeline loads CSV files into a target of each kind, run by `dagsmith`
in this process (typer's runner), so that `dagsmith runs` has a history to read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.cli.app import app
from tests.conftest import Database

PIPELINE = "shop_orders"
CONNECTION = "runs_target"


@dataclass(frozen=True)
class Project:
    """The working folder of `dagsmith`, with `pipelines/shop_orders.yaml` and its data."""

    folder: Path
    table: str
    target: str | None
    """The connection id of the target; None: the embedded DuckDB file."""

    def write_spec(self, **lines: str) -> Path:
        """The spec of an incremental upsert with rules, a filter and a reject limit."""
        target = f"target: {self.target}\n" if self.target else ""
        spec = f"""pipeline: {lines.get("pipeline", PIPELINE)}
{target}streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform:
      types: {{id: bigint, amount: "decimal(10,2)", updated_at: timestamptz}}
      required: [id]
      ranges: {{amount: {{min: 0}}}}
      filter: {{column: status, op: "!=", value: test}}
      max_rejects: 3
    load: {{table: {self.table}, mode: upsert, keys: [id]}}
    incremental: {{cursor: updated_at}}
"""
        path = self.folder / "pipelines" / f"{lines.get('pipeline', PIPELINE)}.yaml"
        path.write_text(spec, encoding="utf-8")
        return path

    def data(self, rows: str | None) -> None:
        """The CSV the next run reads (None: no file at all)."""
        path = self.folder / "pipelines" / "data" / "orders.csv"
        if rows is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text("id,amount,status,updated_at\n" + rows, encoding="utf-8")

    def run(self) -> dict[str, Any]:
        """`dagsmith run` of the pipeline; its JSON summary."""
        code, out, err = dagsmith("run", f"pipelines/{PIPELINE}.yaml", "--json")
        summary: dict[str, Any] = json.loads(out)
        assert code == (0 if summary["ok"] else 1), err
        return summary


def dagsmith(*args: str) -> tuple[int, str, str]:
    """`dagsmith ARGS` in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def listed(*args: str) -> list[dict[str, Any]]:
    """`dagsmith runs ARGS --json`, which must succeed."""
    code, out, err = dagsmith("runs", *args, "--json")
    assert code == 0, err
    runs: list[dict[str, Any]] = json.loads(out)
    return runs


@pytest.fixture(params=["postgres", "mariadb", "sqlite", "embedded"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project loading into each kind of target in turn, as the working folder."""
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    if request.param == "embedded":  # with a schema: the records sit beside the table
        return Project(tmp_path, "sales.orders", None)
    db: Database = request.getfixturevalue(request.param)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTION.upper()}", db.url.render_as_string(False))
    return Project(tmp_path, db.table("orders"), CONNECTION)
