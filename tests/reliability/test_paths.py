"""Local sources are read only inside the project folder, the spec's folder, or a folder
the user allowed; anything else is refused before it is opened, by every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli

CONTENT = "root:x:0:0:root:/root:/bin/bash"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`project/` with a good file and a symlink out to `outside/secret.csv`."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(f"{CONTENT}\nb\n")
    (tmp_path / "project" / "data").mkdir(parents=True)
    (tmp_path / "project" / "data" / "ok.csv").write_text("a,b\n1,2\n")
    (tmp_path / "project" / "data" / "link.csv").symlink_to(tmp_path / "outside" / "secret.csv")
    return tmp_path / "project"


def _spec(project: Path, path: str, table: str = "t") -> None:
    (project / "p.yaml").write_text(
        f"pipeline: c\nstreams:\n  - name: s\n    source: {{kind: csv, path: {path!r}}}\n"
        f"    load: {{table: {table}}}\n"
    )


@pytest.mark.parametrize(
    "path", ["../outside/secret.csv", "{outside}/secret.csv", "data/link.csv", "../outside/*.csv"]
)
def test_run_refuses_a_path_out_of_the_project(project: Path, path: str, dagsmith: Cli) -> None:
    _spec(project, path.format(outside=project.parent / "outside"))
    result = dagsmith("run", "p.yaml", "--json", cwd=project)
    assert result.returncode == 2, result.stderr  # bad input, as docs/cli.md says
    assert "is outside the project folder" in result.stdout
    assert CONTENT not in result.stdout + result.stderr


def test_a_refused_glob_match_is_named_with_its_glob(project: Path, dagsmith: Cli) -> None:
    (project.parent / "outside" / "other.csv").write_text("a,b\n1,2\n")
    _spec(project, "../outside/*.csv")
    result = dagsmith("run", "p.yaml", "--json", cwd=project)
    (stream,) = json.loads(result.stdout)["streams"]
    file = project.parent / "outside" / "other.csv"
    assert stream["error"].startswith(f"source path '{file}' (matched by '../outside/*.csv')")


def test_allowed_folders_are_read(project: Path, dagsmith: Cli) -> None:
    _spec(project, "../outside/secret.csv")
    outside = str(project.parent / "outside")
    assert dagsmith("--allow-path", outside, "run", "p.yaml", cwd=project).returncode == 0
    allowed = {"DAGSMITH_ALLOW_PATHS": outside}
    assert dagsmith("run", "p.yaml", cwd=project, env=allowed).returncode == 0
    _spec(project, "data/ok.csv", "ok")
    assert dagsmith("run", "p.yaml", cwd=project).returncode == 0


def test_the_specs_folder_is_allowed_from_anywhere(project: Path, dagsmith: Cli) -> None:
    _spec(project, "data/ok.csv")
    assert dagsmith("run", str(project / "p.yaml"), cwd=project.parent / "outside").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["profile", "../outside/secret.csv"],
        ["init", "../outside/secret.csv", "--name", "x"],
        ["build", "load ../outside/secret.csv into table x", "--out", "o", "--yes"],
    ],
)
def test_profile_init_and_build_refuse_it_too(
    project: Path, args: list[str], dagsmith: Cli
) -> None:
    result = dagsmith(*args, cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert CONTENT not in result.stdout + result.stderr and "root:x" not in result.stdout
    assert not (project / "o").exists() and not (project / "pipelines").exists()


def test_a_chat_refuses_it_and_the_model_sees_no_content(project: Path) -> None:
    from agent.chat.conversation import Conversation

    chat = Conversation(project, project, "offline")
    turn = chat.send("load ../outside/secret.csv into table x", lambda _: None, lambda _: None)
    said = repr(turn.messages)
    assert "is outside the project folder" in said and "root:x" not in said
    assert chat.checked is None


def test_allow_paths_in_the_project_file(project: Path, dagsmith: Cli) -> None:
    _spec(project, "../outside/secret.csv")
    settings = project / "dagsmith.toml"
    settings.write_text('allow_paths = ["../elsewhere"]\n')
    assert dagsmith("run", "p.yaml", cwd=project).returncode == 2
    for allowed in ('"../outside"', f'"{project.parent / "outside"}"'):
        settings.write_text(f"allow_paths = [{allowed}]\n")
        result = dagsmith("run", "p.yaml", cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    settings.write_text('allow_paths = "../outside"\n')
    result = dagsmith("run", "p.yaml", cwd=project)
    assert result.returncode == 2 and "dagsmith.toml" in result.stdout + result.stderr
    assert "allow_paths" in result.stdout + result.stderr


def test_a_specs_project_file_counts_from_any_folder(project: Path, dagsmith: Cli) -> None:
    """A spec in `pipelines/` belongs to the folder above: that project's allowances hold
    wherever the command starts, as they do for its DAG."""
    (project / "pipelines").mkdir()
    (project / "pipelines" / "p.yaml").write_text(
        "pipeline: c\nstreams:\n  - name: s\n"
        "    source: {kind: csv, path: ../../outside/secret.csv}\n    load: {table: t}\n"
    )
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.dagsmith]\nallow_paths = ["../outside"]\n'
    )
    result = dagsmith("run", str(project / "pipelines" / "p.yaml"), cwd=project.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_init_keeps_an_allowed_folder_in_the_project_file(project: Path, dagsmith: Cli) -> None:
    """`init` of a file allowed for that command only: the folder goes to the project's
    file (its comments and tables kept), and the spec then runs without the option."""
    (project / "dagsmith.toml").write_text(
        '# settings\ndefault = "dev"\n\n[environments.dev]\n# the embedded target\n'
    )
    outside = project.parent / "outside"
    (outside / "orders.csv").write_text("id,amount\n1,2.5\n2,3.5\n")
    made = dagsmith(
        "--allow-path", str(outside), "init", "../outside/orders.csv", "--name", "o", cwd=project
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert "allowed the source's folder" in made.stdout
    assert (project / "dagsmith.toml").read_text() == (
        '# settings\ndefault = "dev"\nallow_paths = ["../outside"]\n\n'
        "[environments.dev]\n# the embedded target\n"
    )
    ran = dagsmith("run", "pipelines/o.yaml", "--json", cwd=project)
    assert ran.returncode == 0 and '"rows_loaded": 2' in ran.stdout, ran.stdout + ran.stderr
    again = dagsmith(
        "--allow-path", str(outside), "init", "../outside/orders.csv", "--name", "o2", cwd=project
    )
    assert again.returncode == 0 and "allowed the source's folder" not in again.stdout
    assert (project / "dagsmith.toml").read_text().count("allow_paths") == 1
