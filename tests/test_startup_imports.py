"""What `dagsmith` imports to start: the budgets of bench/startup.py, checked on what the
real command has in `sys.modules` when it exits (never on time, which the benchmark owns)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from bench.startup import BUDGETS, imported_at_exit, make_project, over_budget

pytestmark = pytest.mark.cli


@pytest.fixture
def project(tmp_path: Path) -> dict[str, str]:
    """The benchmark's project (a 10-row CSV into SQLite) and its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORCE_COLOR", "TTY_"))}
    return {**env, **make_project(tmp_path)}


@pytest.mark.parametrize(
    ("command", "args"),
    [("--help", ["--help"]), ("validate", ["validate", "startup.yaml"])],
)
def test_a_command_imports_nothing_its_budget_forbids(
    tmp_path: Path, project: dict[str, str], command: str, args: list[str]
) -> None:
    imported = imported_at_exit(args, tmp_path, project)
    assert "agent.cli.app" in imported
    assert over_budget(imported, BUDGETS[command]) == []


def test_a_run_into_sqlite_imports_nothing_its_budget_forbids(
    tmp_path: Path, project: dict[str, str]
) -> None:
    imported = imported_at_exit(["run", "startup.yaml"], tmp_path, project)
    with sqlite3.connect(tmp_path / "target.db") as db:
        assert db.execute("SELECT count(*) FROM rows").fetchone() == (10,)
    assert {"connectors.loaders.sqlite", "pyarrow", "connectors.runner"} <= imported
    assert over_budget(imported, BUDGETS["run"]) == []


def test_the_budget_check_sees_a_forbidden_import(tmp_path: Path, project: dict[str, str]) -> None:
    """An email alert needs email_validator: the same check names it."""
    spec = tmp_path / "startup.yaml"
    spec.write_text(
        spec.read_text().replace(
            "streams:", "alerts: {on_failure: [{email: ops@example.com}]}\nstreams:"
        )
    )
    imported = imported_at_exit(["validate", "startup.yaml"], tmp_path, project)
    assert over_budget(imported, BUDGETS["validate"]) == ["email_validator"]


def test_a_second_incremental_run_into_sqlite_imports_no_sqlalchemy(
    tmp_path: Path, project: dict[str, str]
) -> None:
    """The pre-flight of an existing table and the stored watermark are read with sqlite3."""
    spec = tmp_path / "startup.yaml"
    spec.write_text(
        spec.read_text().replace(
            "    load: {table: rows, mode: append}",
            "    transform: {types: {id: integer}}\n"
            "    load: {table: rows, mode: upsert, keys: [id]}\n"
            "    incremental: {cursor: id}",
        )
    )
    for _ in range(2):
        imported = imported_at_exit(["run", "startup.yaml"], tmp_path, project)
        assert over_budget(imported, BUDGETS["run"]) == []
    with sqlite3.connect(tmp_path / "target.db") as db:
        assert db.execute("SELECT count(*), max(id) FROM rows").fetchone() == (10, 10)
        assert db.execute("SELECT value FROM _dagsmith_state").fetchone() == ("10",)
        assert db.execute("SELECT sum(rows_loaded) FROM _dagsmith_runs").fetchone() == (10,)
