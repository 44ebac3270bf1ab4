"""Environments (`dagsmith.toml`, `[tool.dagsmith]`): one spec, each environment's connections
and defaults, chosen by `--env` or DAGSMITH_ENV; `check --env` refuses an undefined id."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from connectors import environments
from connectors.connections import lookup, resolve_target
from connectors.errors import ConnectionNotFound, SpecError
from connectors.spec import parse_spec
from tests.conftest import Cli

PROJECT_FILE = """
default = "dev"

[environments.dev]
lineage_namespace = "dagsmith-dev"

[environments.dev.connections]
warehouse = "wh_dev"

[environments.prod]
target = "wh_prod"
staging_url = "{staging}"
lineage_namespace = "dagsmith-prod"

[environments.prod.connections]
warehouse = "wh_prod"
"""

SPEC = """
pipeline: orders
target: warehouse
streams:
  - name: orders
    source: {kind: csv, path: orders.csv}
    load: {table: orders}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with dev and prod environments, each warehouse a SQLite file of its own."""
    (tmp_path / "dagsmith.toml").write_text(PROJECT_FILE.format(staging=tmp_path / "staging"))
    (tmp_path / "orders.csv").write_text("id,amount\n1,9.5\n2,3\n")
    (tmp_path / "orders.yaml").write_text(SPEC)
    for name in ("dev", "prod"):
        monkeypatch.setenv(f"AIRFLOW_CONN_WH_{name.upper()}", f"sqlite:///{tmp_path / name}.db")
    for variable in ("DAGSMITH_ENV", "DAGSMITH_STAGING_URL", "OPENLINEAGE_NAMESPACE"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def test_the_file_default_and_dagsmith_env_choose_the_connection(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lookup("warehouse", project) == f"sqlite:///{project / 'dev'}.db"
    monkeypatch.setenv("DAGSMITH_ENV", "prod")
    assert lookup("warehouse", project) == f"sqlite:///{project / 'prod'}.db"
    assert resolve_target("warehouse", project).conn_id == "wh_prod"


def test_an_id_the_environment_does_not_define_is_refused_with_what_it_defines(
    project: Path,
) -> None:
    with pytest.raises(ConnectionNotFound) as caught:
        lookup("crm", project)
    assert caught.value.message == "environment 'dev' does not define connection 'crm'"
    assert "under [environments.dev.connections] in dagsmith.toml" in str(caught.value.hint)
    assert "defined: warehouse" in str(caught.value.hint)


def test_a_mapped_id_that_is_not_configured_names_both_ids(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WH_DEV")
    with pytest.raises(
        ConnectionNotFound, match="'wh_dev' \\(the spec's 'warehouse' in environment 'dev'\\)"
    ):
        lookup("warehouse", project)


def test_a_spec_without_target_takes_the_environment_s_default_target(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_target(None, project).embedded
    monkeypatch.setenv("DAGSMITH_ENV", "prod")
    target = resolve_target(None, project)
    assert (target.conn_id, target.url.database) == ("wh_prod", f"{project / 'prod'}.db")


def test_defaults_apply_unless_the_variable_is_set(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_ENV", "prod")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "set-by-the-deployment")
    env = environments.apply_defaults(project)
    assert env.name == "prod"
    assert environments.os.environ["DAGSMITH_STAGING_URL"] == str(project / "staging")
    assert environments.os.environ["OPENLINEAGE_NAMESPACE"] == "set-by-the-deployment"


def test_pyproject_tool_section_declares_environments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSMITH_ENV", raising=False)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n'
        '[tool.dagsmith.environments.ci.connections]\nwarehouse = "wh_ci"\n'
    )
    assert environments.active(tmp_path).name is None  # no default: no environment
    monkeypatch.setenv("DAGSMITH_ENV", "ci")
    assert environments.active(tmp_path).connection("warehouse") == "wh_ci"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[environments.prod]\ntarget = 'Bad Id'\n", "environments.prod.target"),
        ("[environments.prod]\nstagging_url = 's3://x'\n", "environments.prod.stagging_url"),
        ("default = 'qa'\n[environments.prod]\n", "default: no environment named 'qa'"),
        ("[environments.prod\n", "not valid TOML"),
    ],
)
def test_a_bad_project_file_names_the_file_and_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.delenv("DAGSMITH_ENV", raising=False)
    (tmp_path / "dagsmith.toml").write_text(text)
    with pytest.raises(SpecError) as caught:
        environments.active(tmp_path)
    assert "dagsmith.toml" in caught.value.message and message in caught.value.message


def test_an_undeclared_environment_lists_the_declared_ones(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_ENV", "staging")
    with pytest.raises(SpecError, match="environment 'staging' is not declared") as caught:
        environments.active(project)
    assert caught.value.hint == "declared: dev, prod"


def test_undefined_connections_lists_every_use(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parse_spec(
        SPEC.replace("path: orders.csv", "path: s3://bucket/orders.csv, connection: lake")
        + "    transform: {protect: {email: hash}}\n"
    )
    monkeypatch.setenv("DAGSMITH_ENV", "prod")
    problems = environments.undefined_connections(spec, project)
    assert [p.split(",")[0] for p in problems] == [
        "environment 'prod' does not define connection 'lake'",
        "environment 'prod' does not define connection 'pii_key'",
    ]
    assert "used by the source of stream orders" in problems[0]


def _rows(database: Path) -> list[tuple[object, ...]]:
    """The ids loaded (as text: the spec declares no types)."""
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT id FROM orders ORDER BY id").fetchall()


def test_run_loads_into_the_chosen_environment_s_database(project: Path, dagsmith: Cli) -> None:
    dev = dagsmith("run", "orders.yaml", "--json", cwd=project)
    assert dev.returncode == 0, dev.stderr
    assert _rows(project / "dev.db") == [("1",), ("2",)]
    assert not (project / "prod.db").exists()
    prod = dagsmith("run", "orders.yaml", "--env", "prod", "--json", cwd=project)
    assert prod.returncode == 0, prod.stderr
    assert _rows(project / "prod.db") == [("1",), ("2",)]
    assert json.loads(prod.stdout)["target"].endswith("prod.db")


def test_check_env_fails_on_a_connection_the_environment_does_not_define(
    project: Path, dagsmith: Cli
) -> None:
    (project / "pipelines").mkdir()
    (project / "orders.yaml").rename(project / "pipelines" / "orders.yaml")
    (project / "pipelines" / "orders.yaml").write_text(
        SPEC.replace("path: orders.csv", "path: ../orders.csv")
    )
    rendered = dagsmith("render", "pipelines/orders.yaml", cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    assert dagsmith("check", "--env", "prod", cwd=project).returncode == 0
    (project / "dagsmith.toml").write_text(
        PROJECT_FILE.format(staging="x").replace('warehouse = "wh_prod"', 'lake = "lake"')
    )
    failed = dagsmith("check", "--env", "prod", cwd=project)
    assert failed.returncode == 1
    assert "environment 'prod' does not define connection 'warehouse', used by the target" in (
        failed.stdout + failed.stderr
    )
    unknown = dagsmith("check", "--env", "qa", cwd=project)
    assert unknown.returncode == 2
    assert "environment 'qa' is not declared" in unknown.stderr


def test_check_env_warns_of_a_mapped_connection_not_set_here_as_run_says_it(
    project: Path, dagsmith: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection set only in the deployment (Airflow's store) must not fail the CI
    gate, so it is a warning: in the words `run` fails with here."""
    (project / "pipelines").mkdir()
    (project / "pipelines" / "orders.yaml").write_text(
        SPEC.replace("path: orders.csv", "path: ../orders.csv")
    )
    assert dagsmith("render", "pipelines/orders.yaml", cwd=project).returncode == 0
    monkeypatch.delenv("AIRFLOW_CONN_WH_PROD")
    ran = dagsmith("run", "pipelines/orders.yaml", "--env", "prod", cwd=project)
    assert ran.returncode == 2
    said, hint = (line.split(": ", 1)[1] for line in ran.stderr.splitlines()[:2])
    assert "AIRFLOW_CONN_WH_PROD" in hint
    checked = dagsmith("check", "--env", "prod", "--json", cwd=project)
    assert checked.returncode == 0, checked.stderr
    ((warning,),) = [result["warnings"] for result in json.loads(checked.stdout)]
    assert warning == f"{said}, used by the target (hint: {hint})"
    text = dagsmith("check", "--env", "prod", cwd=project)
    assert f"warning: {said}" in text.stderr
    dev = dagsmith("check", "--env", "dev", "--json", cwd=project)
    assert [result["warnings"] for result in json.loads(dev.stdout)] == [[]]


@pytest.mark.parametrize("allowed", ["/", "{home}", "{home}/.."])
def test_an_allowance_of_the_machine_or_the_home_folder_is_warned_once(
    project: Path, dagsmith: Cli, allowed: str
) -> None:
    home = project / "home"
    home.mkdir()
    settings = project / "dagsmith.toml"
    entry = allowed.format(home=home)
    settings.write_text(f'allow_paths = ["{entry}", "data"]\n' + settings.read_text())
    result = dagsmith("run", "orders.yaml", cwd=project, env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "allow_paths" in line]
    assert f"{settings}: allow_paths {entry!r} lets the project's specs read any file" in warning


def test_settings_in_both_project_files_are_warned_naming_both(
    project: Path, dagsmith: Cli
) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.dagsmith]\ndefault = "prod"\n')
    result = dagsmith("run", "orders.yaml", "--json", cwd=project)
    assert json.loads(result.stdout)["target"].endswith("dev.db")  # dagsmith.toml's default
    (warning,) = [line for line in result.stderr.splitlines() if "both hold" in line]
    assert f"{project / 'dagsmith.toml'} and [tool.dagsmith] of {pyproject}" in warning
    pyproject.write_text('[project]\nname = "x"\n')
    assert "both hold" not in dagsmith("validate", "orders.yaml", cwd=project).stderr


def test_a_settings_warning_comes_once_however_the_folder_is_named(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The CLI names the project `.` or by its path, a DAG check by another: one warning."""
    monkeypatch.chdir(project)
    settings = project / "dagsmith.toml"
    settings.write_text('allow_paths = ["/"]\n' + settings.read_text())
    with caplog.at_level(logging.WARNING, "dagsmith"):
        for folder in (Path("."), project, project / "data" / ".."):
            assert environments.allowed_paths(folder) == [project / "/"]
    assert [r.getMessage() for r in caplog.records] == [
        f"{settings}: allow_paths '/' lets the project's specs read any file on the machine: "
        "allow only the folders their sources are in"
    ]
