"""A project whose pipeline `shop` loads a CSV file into SQLite or PostgreSQL, run for real
by `dagsmith run` (typer's runner, in this process), so that `dagsmith diagnose` has real
run records, rejects and run markers to read."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.runs.conftest import dagsmith
from tests.sources_rest.conftest import api  # noqa: F401 - the loopback API, for auth

PIPELINE = "shop"
CONNECTION = "monitor_target"
SPEC = """pipeline: shop
{target}streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform:
      types: {{id: bigint, amount: "decimal(10,2)", updated_at: timestamptz}}
      required: [id]
    load: {{table: {table}, mode: upsert, keys: [id]}}
"""
REST_SPEC = """pipeline: shop
{target}streams:
  - name: orders
    source: {{kind: rest, connection: api, endpoint: items, auth: {{type: bearer}}}}
    transform:
      types: {{id: bigint}}
    load: {{table: {table}, mode: upsert, keys: [id]}}
"""
HEADER = "id,amount,updated_at\n"
GOOD = HEADER + "1,10.50,2026-12-01T00:00:00Z\n2,3.00,2026-12-01T01:00:00Z\n"


@dataclass(frozen=True)
class Project:
    """The working folder of `dagsmith`, with `pipelines/shop.yaml` and its data file."""

    folder: Path
    table: str
    target: str | None

    @property
    def spec_path(self) -> Path:
        return self.folder / "pipelines" / f"{PIPELINE}.yaml"

    def write_spec(self, text: str = SPEC) -> str:
        """The spec (`{target}` and `{table}` filled in); its text."""
        target = f"target: {self.target}\n" if self.target else ""
        filled = text.format(target=target, table=self.table)
        self.spec_path.write_text(filled, encoding="utf-8")
        return filled

    def data(self, text: str) -> None:
        """The CSV file the next run reads."""
        (self.folder / "pipelines" / "data" / "orders.csv").write_text(text, encoding="utf-8")

    def run(self) -> dict[str, Any]:
        """`dagsmith run` of the pipeline: its one stream's summary."""
        code, out, err = dagsmith("run", f"pipelines/{PIPELINE}.yaml", "--json")
        summary: dict[str, Any] = json.loads(out)
        assert code == (0 if summary["ok"] else 1), err
        (stream,) = summary["streams"]
        return {"run_id": summary["run_id"], **stream}

    def diagnose(self, *args: str) -> dict[str, Any]:
        """`dagsmith diagnose ARGS --json`, which must succeed: its object."""
        code, out, err = dagsmith("diagnose", *args, "--json")
        assert code == 0, err + out
        found: dict[str, Any] = json.loads(out)
        return found


@pytest.fixture(params=["sqlite", "postgres"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project loading into SQLite, then PostgreSQL; its run markers under the test's
    own staging folder."""
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSMITH_STAGING_URL", str(tmp_path / "staging"))
    db: Database = request.getfixturevalue(request.param)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTION.upper()}", db.url.render_as_string(False))
    table = f"{db.schema}.orders" if db.schema else "orders"
    return Project(tmp_path, table, CONNECTION)


def git_repo(folder: Path) -> None:
    """Make `folder` a git repository with everything in it committed."""
    for args in (
        ["init", "--quiet", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "Test"],
        ["add", "."],
        ["commit", "--quiet", "-m", "start"],
    ):
        subprocess.run(["git", *args], cwd=folder, check=True)
