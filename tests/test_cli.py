"""The `dagsmith` command as a user runs it: a real process, real files, real databases."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Cli, Database

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project in a scratch folder."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from agent.cli.app import app;"
        "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output;"
        "print(sorted(m for m in ('pyarrow', 'sqlalchemy', 'pandas', 'airflow', 'langchain')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_run_imports_no_module_it_does_not_use(project: Path) -> None:
    """pandas (for user steps) and prometheus_client (for a Pushgateway) cost 0.5 s of start-up."""
    code = (
        "import sys; from typer.testing import CliRunner; from agent.cli.app import app;"
        "r = CliRunner().invoke(app, ['run', 'examples/orders.yaml', '--json']);"
        "assert r.exit_code == 0, r.output;"
        "print(sorted(m for m in ('pandas', 'prometheus_client') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DAGSMITH_PUSHGATEWAY_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_version_and_schema(project: Path, dagsmith: Cli) -> None:
    assert dagsmith("--version", cwd=project).stdout.startswith("dagsmith ")
    schema = json.loads(dagsmith("schema", cwd=project).stdout)
    assert schema["title"] == "Pipeline"
    assert "streams" in schema["required"]


def warehouse(project: Path) -> duckdb.DuckDBPyConnection:
    """The project's embedded DuckDB file, opened read-only."""
    return duckdb.connect(str(project / ".dagsmith" / "warehouse.duckdb"), read_only=True)


def test_example_runs_on_the_embedded_duckdb_target(project: Path, dagsmith: Cli) -> None:
    result = dagsmith("run", "examples/orders.yaml", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["embedded_target"] is True
    (stream,) = summary["streams"]
    assert stream["rows_read"] == 11
    assert stream["rows_rejected"] == 5
    assert stream["rows_loaded"] == 5  # 1002 twice: the last one wins
    with warehouse(project) as conn:
        rows = conn.execute("SELECT order_id, amount, status FROM orders ORDER BY 1").fetchall()
        rules = dict(
            conn.execute("SELECT rule, count(*) FROM orders__rejects GROUP BY 1").fetchall()
        )
    assert [r[0] for r in rows] == [1001, 1002, 1004, 1006, 1010]
    assert rows[1][1:] == (7.5, "paid")
    assert rows[2][1] == 0  # filled
    assert rules == {"required": 1, "range": 2, "type": 2}


def test_summary_table_names_the_embedded_target(project: Path, dagsmith: Cli) -> None:
    result = dagsmith("run", "examples/orders.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "embedded DuckDB" in result.stdout
    assert "orders__rejects" in result.stdout
    assert "look at the rows: duckdb .dagsmith/warehouse.duckdb" in result.stdout
    assert "orders: 5 inserted, 0 updated, 0 unchanged" in result.stdout
    again = dagsmith("run", "examples/orders.yaml", cwd=project)
    assert "orders: 0 inserted, 0 updated, 5 unchanged" in again.stdout
    (project / "examples" / "data" / "orders.csv").unlink()
    failed = dagsmith("run", "examples/orders.yaml", cwd=project)
    assert failed.returncode == 1 and "embedded DuckDB" in failed.stdout
    assert "look at the rows" not in failed.stdout  # nothing of this run to look at


def test_rerun_with_the_same_run_id_loads_nothing_twice(project: Path, dagsmith: Cli) -> None:
    args = ("run", "examples/orders.yaml", "--json", "--run-id", "r1")
    first = json.loads(dagsmith(*args, cwd=project).stdout)
    second = json.loads(dagsmith(*args, cwd=project).stdout)
    assert first["streams"][0]["status"] == "ok"
    assert second["streams"][0]["status"] == "skipped"


def test_bad_spec_exits_2_with_location_and_no_traceback(project: Path, dagsmith: Cli) -> None:
    spec = project / "examples" / "orders.yaml"
    spec.write_text(spec.read_text().replace("mode: upsert", "mode: upsurt"))
    result = dagsmith("run", str(spec), cwd=project)
    assert result.returncode == 2
    assert "orders.yaml:25: streams[0].load.mode" in result.stderr
    assert "Traceback" not in result.stderr
    assert dagsmith("validate", str(spec), cwd=project).returncode == 2


def test_missing_connection_exits_2_and_says_what_to_set(
    project: Path, dagsmith: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = project / "examples" / "orders.yaml"
    spec.write_text("target: warehouse\n" + spec.read_text())
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    result = dagsmith("run", str(spec), cwd=project)
    assert result.returncode == 2
    assert "AIRFLOW_CONN_WAREHOUSE" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_schema_on_a_sqlite_target_is_refused_before_the_source_is_read(
    tmp_path: Path, dagsmith: Cli
) -> None:
    """The spec cannot know its target's database: the pre-flight refuses the field, so a
    missing source file is not even looked for."""
    (tmp_path / "p.yaml").write_text(
        "pipeline: p\ntarget: lite\nstreams:\n  - name: s\n"
        "    source: {kind: csv, path: missing.csv}\n    load: {table: myschema.t}\n"
    )
    lite = {"AIRFLOW_CONN_LITE": f"sqlite:///{tmp_path / 't.db'}"}
    result = dagsmith("run", "p.yaml", "--json", cwd=tmp_path, env=lite)
    assert result.returncode == 2, result.stderr
    (stream,) = json.loads(result.stdout)["streams"]
    assert stream["error"].startswith(
        "load.table 'myschema.t' names a schema, and SQLite has no schemas: nothing was read"
    )
    assert "(table: t)" in stream["error"]


def test_reject_limit_fails_the_run_with_exit_1_and_loads_nothing(
    project: Path, dagsmith: Cli
) -> None:
    spec = project / "examples" / "orders.yaml"
    spec.write_text(spec.read_text().replace("max_rejects: 50%", "max_rejects: 2"))
    result = dagsmith("run", str(spec), "--json", cwd=project)
    assert result.returncode == 1
    stream = json.loads(result.stdout)["streams"][0]
    assert stream["status"] == "failed"
    assert "max_rejects is 2" in stream["error"]
    with warehouse(project) as conn:
        tables = conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        failed = conn.execute("SELECT run_id, error FROM _dagsmith_failed_runs").fetchall()
    # DuckDB's DDL is in the load's transaction: no table is left but the failure's record.
    assert tables == [("_dagsmith_failed_runs",)]
    assert [run_id for run_id, _ in failed] == [json.loads(result.stdout)["run_id"]]
    assert "max_rejects is 2" in failed[0][1]


def test_connection_from_dotenv_loads_into_postgres(
    project: Path, postgres: Database, dagsmith: Cli
) -> None:
    spec = project / "examples" / "orders.yaml"
    text = spec.read_text().replace("table: orders", f"table: {postgres.schema}.orders")
    spec.write_text("target: warehouse\n" + text)
    (project / ".env").write_text(
        f"AIRFLOW_CONN_WAREHOUSE={postgres.url.render_as_string(False)}\n"
    )
    result = dagsmith("run", str(spec), "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["embedded_target"] is False
    assert [r[0] for r in postgres.rows(postgres.table("orders"))] == [1001, 1002, 1004, 1006, 1010]


def test_a_stream_failure_is_printed_once_and_log_times_read_iso(
    tmp_path: Path, dagsmith: Cli
) -> None:
    (tmp_path / "p.yaml").write_text(
        "pipeline: gone\nstreams:\n  - name: s\n    source: {kind: csv, path: nowhere.csv}\n"
        "    load: {table: t}\n"
    )
    result = dagsmith("--verbose", "run", "p.yaml", cwd=tmp_path)
    assert result.returncode == 1
    printed = result.stdout + result.stderr
    assert printed.count("source file not found") == 1, printed
    times = re.findall(r"^\[(\S+)\] (?:INFO|ERROR)", result.stderr, re.MULTILINE)
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", t) for t in times)


def test_render_and_check_of_a_spec_with_access_print_no_deprecation(
    tmp_path: Path, dagsmith: Cli
) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "x.csv").write_text("a\n1\n")
    (tmp_path / "pipelines" / "acc.yaml").write_text(
        "pipeline: acc\naccess: {sales_analyst: [read]}\nstreams:\n  - name: s\n"
        "    source: {kind: csv, path: x.csv}\n    load: {table: t}\n"
    )
    for args in (("render", "pipelines/acc.yaml"), ("check",)):
        result = dagsmith(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "deprecated" not in result.stdout + result.stderr
    assert "access_control={'sales_analyst'" in (tmp_path / "dags" / "acc.py").read_text()


def test_a_spec_in_another_projects_pipelines_runs_with_that_projects_env(
    tmp_path: Path, dagsmith: Cli
) -> None:
    """Run from elsewhere, a project's spec reads the project's `.env` and files, and loads
    where its DAG would, not into the working folder."""
    project, elsewhere = tmp_path / "shop", tmp_path / "elsewhere"
    (project / "pipelines").mkdir(parents=True)
    elsewhere.mkdir()
    (project / "orders.csv").write_text("id,total\n1,9.5\n2,3\n")
    (project / ".env").write_text(f"AIRFLOW_CONN_SHOP_DB=sqlite:///{project / 'shop.db'}\n")
    spec = project / "pipelines" / "orders.yaml"
    spec.write_text(
        "pipeline: shop\ntarget: shop_db\nstreams:\n  - name: orders\n"
        "    source: {kind: csv, path: ../orders.csv}\n    load: {table: orders}\n"
    )
    result = dagsmith("run", str(spec), "--json", cwd=elsewhere)
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(project / "shop.db") as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (2,)
    assert list(elsewhere.iterdir()) == []
