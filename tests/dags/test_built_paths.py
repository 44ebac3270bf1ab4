"""A pipeline `dagsmith build` wrote runs in Airflow as written: its DAG reads the source
its spec names relative to the spec's folder, as `dagsmith run` does from any folder."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from agent.dags.dagfiles import render_all, write_dags
from connectors.dagfile import PROJECT_DIR_ENV
from tests.conftest import Cli
from tests.dags.airflow_helpers import run, unique
from tests.dags.conftest import DAGS_FOLDER

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ROWS = "id,shipped\n" + "".join(f"{i},{12 + i:02d}/{i:02d}/2024\n" for i in range(1, 10))


def test_the_dag_of_a_built_pipeline_reads_its_source(
    tmp_path: Path, dagsmith: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shipments.csv").write_text(ROWS)
    table = unique("built")
    text = f"load data/shipments.csv into table {table}"
    built = dagsmith("build", text, cwd=tmp_path, env={"DAGSMITH_MODEL": "offline"})
    assert built.returncode == 0, built.stderr
    # Deployed as Airflow sees it: the DAG rendered into its DAGs folder, the project named.
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    (dag,) = render_all([tmp_path / "pipelines" / f"{table}.yaml"], DAGS_FOLDER)
    write_dags([dag])
    bag = DagBag(dag_folder=dag.path, safe_mode=False, load_op_links=False)
    assert not bag.import_errors, bag.import_errors

    state, tis = run(bag.dags[table])
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(9,)]


def test_a_source_outside_the_out_folder_is_allowed_in_the_project_file(
    tmp_path: Path, dagsmith: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`build --out DIR` of a file the user allowed outside DIR: the spec runs as written from
    DIR, from any other folder, and as DIR's DAG, through `allow_paths` in DIR's file."""
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shipments.csv").write_text(ROWS)
    (tmp_path / "elsewhere").mkdir()
    table = unique("outside")
    text = f"load ../data/shipments.csv into table {table}"
    work, project = tmp_path / "work", tmp_path / "project"
    work.mkdir()
    env = {"DAGSMITH_MODEL": "offline"}
    built = dagsmith(
        "--allow-path", "../data", "build", text, "--out", "../project", cwd=work, env=env
    )
    assert built.returncode == 0, built.stderr
    assert (project / "dagsmith.toml").read_text() == 'allow_paths = ["../data"]\n'
    spec = project / "pipelines" / f"{table}.yaml"
    for folder in (project, tmp_path / "elsewhere"):
        ran = dagsmith("run", str(spec), "--json", cwd=folder)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert '"rows_loaded": 9' in ran.stdout
    assert not (tmp_path / "elsewhere" / ".dagsmith").exists()  # the project's warehouse
    monkeypatch.setenv(PROJECT_DIR_ENV, str(project))
    (dag,) = render_all([spec], DAGS_FOLDER)
    write_dags([dag])
    bag = DagBag(dag_folder=dag.path, safe_mode=False, load_op_links=False)
    assert not bag.import_errors, bag.import_errors
    state, tis = run(bag.dags[table])
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    # The project's warehouse: both `dagsmith run`s' rows, then the DAG's (appends).
    with duckdb.connect(str(project / ".dagsmith" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute(f"SELECT count(*) FROM {table}").fetchall() == [(27,)]
