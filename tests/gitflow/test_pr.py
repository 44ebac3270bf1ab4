"""`dagsmith pr` as a user runs it: the real command in scratch repositories with real commits.

`gh` cannot run here (no network, no GitHub): the one stand-in is a script on PATH that
records its arguments and prints a URL. `git push` is real, to a bare repository that
the GitHub URL of `origin` is rewritten to (`url.<bare>.insteadOf`).
"""

from __future__ import annotations

import os
import stat
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Cli
from tests.gitflow.conftest import ROOT, SECTIONS, SUBJECT, commit_all, git

BRANCH = "dagsmith/orders_daily"
GITHUB = "https://github.com/acme/shop.git"


def orders_spec() -> str:
    """The example spec as it reads from pipelines/ (its data one folder up)."""
    text = (ROOT / "examples" / "orders.yaml").read_text(encoding="utf-8")
    return text.replace("path: data/orders.csv", "path: ../data/orders.csv")


def write_spec(repo: Path, text: str) -> None:
    (repo / "pipelines").mkdir(exist_ok=True)
    (repo / "pipelines" / "orders.yaml").write_text(text, encoding="utf-8")


def without_gh() -> dict[str, str]:
    """The environment with every folder holding a `gh` left off PATH."""
    folders = os.environ["PATH"].split(os.pathsep)
    return {"PATH": os.pathsep.join(f for f in folders if not (Path(f) / "gh").exists())}


def state(repo: Path) -> tuple[str, str, str, str]:
    """HEAD, the current branch, the branches and the working tree's status."""
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "branch", "--show-current"),
        git(repo, "branch", "--list"),
        git(repo, "status", "--porcelain", "--untracked-files=all"),
    )


def committed_files(repo: Path, revision: str = "HEAD") -> list[str]:
    return git(repo, "show", "--name-only", "--format=", revision).split()


def test_a_new_pipeline_is_committed_alone_on_its_branch(repo: Path, dagsmith: Cli) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    write_spec(repo, orders_spec())
    (repo / "notes.txt").write_text("not part of the pipeline\n", encoding="utf-8")
    (repo / "staged.txt").write_text("staged, not part of it either\n", encoding="utf-8")
    git(repo, "add", "staged.txt")

    result = dagsmith("pr", "pipelines/orders.yaml", cwd=repo, env=without_gh())

    assert result.returncode == 0, result.stderr
    assert git(repo, "branch", "--show-current").strip() == BRANCH
    assert git(repo, "rev-parse", "HEAD~1").strip() == base
    assert sorted(committed_files(repo)) == ["dags/orders_daily.py", "pipelines/orders.yaml"]
    subject, _, details = git(repo, "log", "-1", "--format=%B").partition("\n\n")
    assert subject == SUBJECT
    assert "- stream orders: data/orders.csv -> orders (upsert on order_id)" in details
    assert "- risk: no failure alert" in details
    # Other changes stay where they were: untracked, and staged but not committed.
    assert git(repo, "status", "--porcelain").splitlines() == ["A  staged.txt", "?? notes.txt"]

    body_path = repo / ".dagsmith" / "pr" / "dagsmith-orders_daily.md"
    assert f"branch {BRANCH}" in result.stdout
    assert str(body_path) in result.stdout
    assert "gh (GitHub's command line) is not installed" in result.stderr
    assert "git push --set-upstream origin dagsmith/orders_daily" in result.stderr
    body = body_path.read_text(encoding="utf-8")
    assert body.startswith(f"# {SUBJECT}\n")
    assert [body.index(section) for section in SECTIONS] == sorted(
        body.index(section) for section in SECTIONS
    )
    assert "| `order_id` | `bigint` | `OrderID` |" in body
    assert "rejected 5 of 11 sampled rows" in body
    assert "Passed: `dags/orders_daily.py`" in body

    checked = dagsmith("check", "pipelines", "--dags", "dags", cwd=repo)
    assert checked.returncode == 0, checked.stderr
    again = dagsmith("pr", "pipelines/orders.yaml", "--branch", "again", cwd=repo)
    assert again.returncode == 2
    assert "nothing to commit" in again.stderr


def test_an_update_to_replace_mode_is_flagged(repo: Path, dagsmith: Cli) -> None:
    write_spec(repo, orders_spec())
    commit_all(repo, "orders pipeline")
    (repo / ".dagsmith").mkdir()
    with closing(duckdb.connect(str(repo / ".dagsmith" / "warehouse.duckdb"))) as conn:
        conn.execute("CREATE TABLE orders (order_id INTEGER)")  # loaded by an earlier run
    write_spec(repo, orders_spec().replace("mode: upsert, keys: [order_id]", "mode: replace"))

    result = dagsmith(
        "pr", "pipelines/orders.yaml", "--branch", "orders-replace", "--no-open", cwd=repo
    )

    assert result.returncode == 0, result.stderr
    assert git(repo, "log", "-1", "--format=%s").startswith(
        "Update pipeline orders_daily: data/orders.csv -> orders (replace), daily at 06:00"
    )
    body = (repo / ".dagsmith" / "pr" / "orders-replace.md").read_text(encoding="utf-8")
    risks = body.split("## Risk flags", 1)[1].split("## Pipeline", 1)[0]
    assert "`orders` already exists in the embedded DuckDB target and will be overwritten" in risks
    assert "`orders` replaces the whole content of `orders` on every run" in risks
    assert "write mode `upsert` -> `replace`" in risks
    assert "not opened, as asked; to open the pull request: git push" in result.stderr


def test_an_existing_branch_is_refused_and_nothing_changes(repo: Path, dagsmith: Cli) -> None:
    git(repo, "branch", BRANCH)
    write_spec(repo, orders_spec())
    before = state(repo)

    result = dagsmith("pr", "pipelines/orders.yaml", cwd=repo)

    assert result.returncode == 2
    assert f"branch {BRANCH} already exists" in result.stderr
    assert "--branch NAME" in result.stderr
    assert state(repo) == before
    assert not (repo / "dags").exists()


def test_an_invalid_spec_is_refused_before_any_branch(repo: Path, dagsmith: Cli) -> None:
    write_spec(repo, orders_spec().replace("mode: upsert", "mode: upsrt"))
    before = state(repo)

    result = dagsmith("pr", "pipelines/orders.yaml", cwd=repo)

    assert result.returncode == 2
    assert "pipelines/orders.yaml:" in result.stderr  # located: file and line
    assert "mode" in result.stderr
    assert state(repo) == before


def test_the_allowance_a_spec_relies_on_is_committed_with_it(
    repo: Path, tmp_path: Path, dagsmith: Cli
) -> None:
    """A spec reading a folder outside the project runs on the branch only with the
    `allow_paths` that lets it: a changed dagsmith.toml goes with it, and only then."""
    outside = tmp_path / "exports"
    outside.mkdir()
    (outside / "orders.csv").write_bytes((repo / "data" / "orders.csv").read_bytes())
    (repo / "dagsmith.toml").write_text('allow_paths = ["../exports"]\n', encoding="utf-8")
    write_spec(repo, orders_spec().replace("../data/orders.csv", "../../exports/orders.csv"))
    (repo / "notes.txt").write_text("not part of the pipeline\n", encoding="utf-8")

    result = dagsmith("pr", "pipelines/orders.yaml", "--no-open", cwd=repo)

    assert result.returncode == 0, result.stderr
    assert sorted(committed_files(repo)) == [
        "dags/orders_daily.py",
        "dagsmith.toml",
        "pipelines/orders.yaml",
    ]
    assert "including dagsmith.toml: pipelines/orders.yaml reads files outside" in result.stderr
    git(repo, "switch", "-q", "main")
    git(repo, "clean", "-qfdx", "--exclude=notes.txt")
    # Committed and unchanged, it is not committed again; a spec inside the project never
    # takes the settings file along.
    (repo / "dagsmith.toml").write_text('allow_paths = ["../exports"]\n', encoding="utf-8")
    commit_all(repo, "settings")
    write_spec(repo, orders_spec().replace("../data/orders.csv", "../../exports/orders.csv"))
    again = dagsmith("pr", "pipelines/orders.yaml", "--branch", "again", "--no-open", cwd=repo)
    assert again.returncode == 0, again.stderr
    assert "dagsmith.toml" not in committed_files(repo)
    git(repo, "switch", "-q", "main")
    (repo / "dagsmith.toml").write_text('allow_paths = ["../exports", "../more"]\n')
    write_spec(repo, orders_spec())
    inside = dagsmith("pr", "pipelines/orders.yaml", "--branch", "inside", "--no-open", cwd=repo)
    assert inside.returncode == 0, inside.stderr
    assert "dagsmith.toml" not in committed_files(repo)


@pytest.fixture
def fake_gh(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A `gh` on PATH that records its arguments, one a line, and prints a pull request URL."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "gh"
    record = tmp_path / "gh-args.txt"
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > '{record}'\n"
        "echo 'Creating pull request for dagsmith/orders_daily into main in acme/shop'\n"
        "echo https://github.com/acme/shop/pull/7\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    path = os.pathsep.join([str(folder), without_gh()["PATH"]])
    return {"PATH": path}, record


def test_gh_opens_the_pull_request_after_a_real_push(
    repo: Path, tmp_path: Path, fake_gh: tuple[dict[str, str], Path], dagsmith: Cli
) -> None:
    env, record = fake_gh
    bare = tmp_path / "github-shop.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", GITHUB)
    git(repo, "config", f"url.{bare}.insteadOf", GITHUB)
    write_spec(repo, orders_spec())

    result = dagsmith("pr", "pipelines/orders.yaml", cwd=repo, env=env)

    assert result.returncode == 0, result.stderr
    head = git(repo, "rev-parse", "HEAD").strip()
    assert git(bare, "rev-parse", f"refs/heads/{BRANCH}").strip() == head
    assert git(repo, "rev-parse", "--abbrev-ref", f"{BRANCH}@{{upstream}}").strip() == (
        f"origin/{BRANCH}"
    )
    args = record.read_text(encoding="utf-8").splitlines()
    assert args[:2] == ["pr", "create"]
    body_path = repo / ".dagsmith" / "pr" / "dagsmith-orders_daily.md"
    assert args[args.index("--title") + 1] == SUBJECT
    assert args[args.index("--body-file") + 1] == str(body_path)
    assert args[args.index("--head") + 1] == BRANCH
    assert "pull request: https://github.com/acme/shop/pull/7" in result.stdout
