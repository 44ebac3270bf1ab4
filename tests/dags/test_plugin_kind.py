"""A third-party source kind: the example plugin (tests/plugins/) is installed as a package
declaring a `dagsmith.sources` entry point, then one spec using its `kind: lines` runs
through `dagsmith run` and through its generated DAG (`dag.test()`), in processes that see
the package, into the embedded DuckDB."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connectors.dagfile import PROJECT_DIR_ENV
from tests.dags.airflow_helpers import unique

pytestmark = pytest.mark.slow

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "dagsmith_example_source"
BIN = Path(sys.executable).parent
NOTES = "alpha\nbeta\ngamma\n"
DAG_TEST = """
import sys
from datetime import UTC, datetime

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1], safe_mode=False, load_op_links=False)
assert not bag.import_errors, bag.import_errors
when = datetime(2025, 3, 1, tzinfo=UTC)
print(bag.dags[sys.argv[2]].test(logical_date=when, run_after=when).state)
"""


def _spec(dag_id: str) -> str:
    return f"""
pipeline: {dag_id}
retries: {{count: 0}}
streams:
  - name: notes
    source: {{kind: lines, path: data/notes.lines}}
    load: {{table: raw.notes, mode: append}}
"""


def _install(target: Path) -> None:
    """pip installs the plugin as any package is installed (its entry point included); its
    build back-end is the one installed here (a dev dependency), not one fetched."""
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--target", str(target)]
    subprocess.run([*command, str(PLUGIN)], check=True, capture_output=True, timeout=300)


def _run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _rows(warehouse: Path) -> list[tuple[str, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT line FROM raw.notes ORDER BY line").fetchall()


def test_a_plugin_kind_runs_through_dagsmith_run_and_its_dag(
    tmp_path: Path, airflow_db: Path
) -> None:
    site = tmp_path / "site"
    _install(site)
    assert (site / "dagsmith_example_source-0.1.0.dist-info" / "entry_points.txt").exists()
    project = tmp_path / "project"
    (project / "pipelines" / "data").mkdir(parents=True)
    (project / "pipelines" / "data" / "notes.lines").write_text(NOTES)
    dag_id = unique("lines_plugin")
    spec = project / "pipelines" / f"{dag_id}.yaml"
    spec.write_text(_spec(dag_id))
    env = {**os.environ, "PYTHONPATH": str(site), PROJECT_DIR_ENV: str(project)}

    _run([str(BIN / "dagsmith"), "run", str(spec)], env, project)
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    assert _rows(warehouse) == [("alpha",), ("beta",), ("gamma",)]
    warehouse.unlink()

    _run([str(BIN / "dagsmith"), "render", str(spec), "--out", str(airflow_db)], env, project)
    dag_file = airflow_db / f"{dag_id}.py"
    try:
        state = _run([sys.executable, "-c", DAG_TEST, str(dag_file), dag_id], env, project)
    finally:
        dag_file.unlink()  # other tests import the DAGs folder without the plugin
    assert state.strip().splitlines()[-1] == "success"
    assert _rows(warehouse) == [("alpha",), ("beta",), ("gamma",)]


def test_without_the_plugin_its_kind_is_unknown(tmp_path: Path) -> None:
    spec = tmp_path / "notes.yaml"
    spec.write_text(_spec("notes"))
    done = subprocess.run(
        [str(BIN / "dagsmith"), "validate", str(spec)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "unknown kind; known kinds:" in done.stdout + done.stderr
