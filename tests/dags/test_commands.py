"""`dagsmith render` and `dagsmith check`, as a user or CI runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example project as `pipelines/`, as the working folder."""
    shutil.copytree(ROOT / "examples", tmp_path / "pipelines")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def dagsmith(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_render_writes_the_dag_and_check_passes(project: Path) -> None:
    code, out, err = dagsmith("render", "pipelines/orders.yaml", "--out", "dags")
    assert code == 0, err
    assert "dags/orders_daily.py" in out
    text = (project / "dags" / "orders_daily.py").read_text()
    assert "dagsmith render 'pipelines/orders.yaml' --out 'dags'" in text
    code, out, err = dagsmith("check")
    assert code == 0, err
    assert "pipelines/orders.yaml" in out


def test_check_names_the_lines_of_a_hand_edited_dag(project: Path) -> None:
    assert dagsmith("render", "pipelines/orders.yaml")[0] == 0
    dag = project / "dags" / "orders_daily.py"
    dag.write_text(dag.read_text().replace("'retries': 3,", "'retries': 9,"))
    code, out, _ = dagsmith("check", "pipelines", "--json")
    assert code == 1
    (result,) = json.loads(out)
    assert result["ok"] is False
    (problem,) = result["problems"]
    assert "stale or edited by hand" in problem
    line = next(
        n for n, text in enumerate(dag.read_text().splitlines(), 1) if "'retries': 9" in text
    )
    assert f"orders_daily.py:{line}: -         'retries': 9," in problem
    assert f"orders_daily.py:{line}: +         'retries': 3," in problem


def test_check_finds_a_copied_dag_and_one_whose_spec_is_gone(project: Path) -> None:
    assert dagsmith("render", "pipelines/orders.yaml")[0] == 0
    dag = project / "dags" / "orders_daily.py"
    shutil.copyfile(dag, project / "dags" / "orders_copy.py")
    (project / "dags" / "helper.py").write_text("VALUE = 1\n")  # not generated: not ours
    gone = dag.read_text().replace("'pipelines/orders.yaml'", "'pipelines/old.yaml'")
    (project / "dags" / "old.py").write_text(gone)

    code, out, _ = dagsmith("check", "pipelines/orders.yaml", "--json")

    assert code == 1
    orders, old = json.loads(out)
    assert orders["problems"] == [
        "dags/orders_copy.py was generated from this spec too (a copy, or a renamed file): "
        "Airflow refuses a DAG id twice; delete it"
    ]
    assert (old["spec"], old["dag"]) == ("pipelines/old.yaml", "dags/old.py")
    assert "but no spec renders it any more" in old["problems"][0]
    # The same when the whole folder is checked (the default), for another copy.
    renamed = dag.read_text().replace("orders_daily", "orders_nightly")
    (project / "dags" / "orders_nightly.py").write_text(renamed)
    code, out, _ = dagsmith("check", "--json")
    assert code == 1 and "dags/orders_nightly.py" in out


def test_check_reports_a_missing_dag_an_invalid_spec_and_an_import_error(project: Path) -> None:
    code, _, err = dagsmith("check", "pipelines/orders.yaml")
    assert code == 1
    assert "no DAG at dags/orders_daily.py" in err
    bad = project / "pipelines" / "bad.yaml"
    bad.write_text("pipeline: Bad Name\nstreams: []\n")
    code, _, err = dagsmith("check", str(bad))
    assert code == 1
    assert "bad.yaml" in err
    assert dagsmith("render", "pipelines/orders.yaml")[0] == 0
    dag = project / "dags" / "orders_daily.py"
    dag.write_text(dag.read_text().replace("orders_daily_dag()\n", "orders_daily_dag(\n"))
    code, out, _ = dagsmith("check", "--json")
    problems = next(r["problems"] for r in json.loads(out) if r["spec"].endswith("orders.yaml"))
    assert code == 1
    assert any("Airflow cannot import it" in p for p in problems)


def test_render_refuses_two_specs_of_one_pipeline(project: Path) -> None:
    shutil.copy(project / "pipelines" / "orders.yaml", project / "pipelines" / "copy.yaml")
    code, _, err = dagsmith("render", "pipelines/orders.yaml", "pipelines/copy.yaml")
    assert code == 2
    assert "orders_daily.py" in err
    assert not (project / "dags").exists()
