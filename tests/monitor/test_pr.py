"""`dagsmith diagnose --pr`: the checked change on a branch of its own, the working tree kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.monitor.conftest import GOOD, HEADER, Project, git_repo
from tests.runs.conftest import dagsmith


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout


def test_pr_branch_differs_only_by_the_change(project: Project) -> None:
    before = project.write_spec()
    (project.folder / ".gitignore").write_text("*.db\nstaging/\n.dagsmith/\n")
    project.data(GOOD)
    assert dagsmith("render", "pipelines/shop.yaml")[0] == 0
    git_repo(project.folder)
    project.data(HEADER + "3,N/A,2026-12-02T00:00:00Z\n4,1.00,2026-12-02T00:00:00Z\n")
    run = project.run()["run_id"]

    code, out, err = dagsmith("diagnose", run, "--pr")

    assert code == 0, err
    branch = f"dagsmith/fix-shop-{run}"
    assert f"branch {branch}" in err and "bad_values" in out
    assert git(project.folder, "branch", "--show-current").strip() == "main"
    assert project.spec_path.read_text() == before, "the working tree's spec is left as it was"
    spec_diff = git(project.folder, "diff", "main", branch, "--", "pipelines/shop.yaml")
    changed = [
        line
        for line in spec_diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        "-    source: {kind: csv, path: data/orders.csv}",
        "+    source: {kind: csv, path: data/orders.csv, null_values: ['', N/A]}",
    ]
    files = git(project.folder, "diff", "--name-only", "main", branch).split()
    assert files == ["dags/shop.py", "pipelines/shop.yaml"]  # the spec and its DAG, nothing else
    body = next((project.folder / ".dagsmith" / "pr").glob("*.md")).read_text()
    assert body.startswith("# Update pipeline shop")
    assert "## Diagnosis" in body and "`bad_values`" in body and "## Risk flags" in body
    assert body.index("## Diagnosis") < body.index("## Summary")


def test_pr_without_a_checked_change_opens_nothing(project: Project) -> None:
    project.write_spec()
    project.data(GOOD)
    git_repo(project.folder)
    run = project.run()["run_id"]

    code, _, err = dagsmith("diagnose", run, "--pr")

    assert code == 1 and "nothing to open a pull request with" in err
    assert "dagsmith/" not in git(project.folder, "branch")


def test_pr_refuses_uncommitted_edits_it_would_drop(project: Project) -> None:
    project.write_spec()
    (project.folder / ".gitignore").write_text("*.db\nstaging/\n.dagsmith/\n")
    project.data(GOOD)
    assert dagsmith("render", "pipelines/shop.yaml")[0] == 0
    git_repo(project.folder)
    edited = project.spec_path.read_text() + "# a note not yet committed\n"
    project.spec_path.write_text(edited)
    project.data(HEADER + "3,N/A,2026-12-02T00:00:00Z\n")
    run = project.run()["run_id"]

    code, _, err = dagsmith("diagnose", run, "--pr")

    assert code == 1 and "uncommitted changes to pipelines/shop.yaml" in err
    assert project.spec_path.read_text() == edited
    assert "dagsmith/" not in git(project.folder, "branch")
