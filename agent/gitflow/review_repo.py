"""`dagsmith review` on a git repository: the specs at two revisions compared, and the DAGs
at HEAD checked.

BASE defaults to the merge base with the main branch (`agent.gitflow.git.default_base`). HEAD
defaults to the HEAD commit, so a review in CI sees exactly what was pushed; `worktree=True`
reviews the files on disk instead, committed or not.

The checks on a commit run on an export of its spec and DAG folders alone: rendering needs
a spec's path, not its data, and Airflow imports a generated DAG without reading a source.
Paths in the report are relative to the repository, never to a scratch folder.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from agent.dags.dagfiles import CheckResult, check_pipelines, spec_files, strays
from agent.gitflow.changes import Change, changes
from agent.gitflow.git import commit_of, default_base, export, files_at, git, toplevel
from agent.gitflow.review_report import Review
from connectors.errors import SpecError
from connectors.spec import Pipeline, parse_spec

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class Specs:
    """The specs of one revision: pipelines by name, their files, and files that do not parse."""

    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)


def review_repo(
    folder: Path,
    base: str | None = None,
    head: str | None = None,
    *,
    specs: Path = Path("pipelines"),
    dags: Path = Path("dags"),
    worktree: bool = False,
) -> Review:
    """Compare the specs at `base` and `head` of the repository holding `folder`, and check
    the DAGs at `head`. `specs` and `dags` are relative to `folder`.

    Raises:
        GitError: not a repository, or an unknown revision.
        SpecError: `head` and `worktree` both given, or a folder outside the repository.
    """
    if worktree and head:
        raise SpecError("give HEAD or --worktree, not both")
    repo = toplevel(folder)
    spec_dir, dag_dir = (_inside(repo, folder / path) for path in (specs, dags))
    base_commit = commit_of(repo, base) if base else default_base(repo)
    base_label = f"`{base}` ({base_commit[:7]})" if base else f"merge base ({base_commit[:7]})"
    before = parse_specs(_spec_texts(files_at(repo, base_commit, spec_dir), spec_dir))
    if worktree:
        head_label, texts = "the working tree", _worktree_texts(repo, spec_dir)
        checks = check_tree(repo, spec_dir, dag_dir)
    else:
        head_label, texts, checks = _head_commit(repo, head or "HEAD", spec_dir, dag_dir)
    found, notes = compare(before, parse_specs(texts))
    return Review(base_label, head_label, found, checks, notes)


def parse_specs(texts: dict[str, str]) -> Specs:
    """Parse spec texts (path -> YAML); a spec that does not parse is kept with its error."""
    specs = Specs()
    for path, text in texts.items():
        try:
            spec = parse_spec(text, path)
        except SpecError as exc:
            specs.broken[path] = exc.message
            continue
        specs.pipelines[spec.pipeline] = spec
        specs.paths[spec.pipeline] = path
    return specs


def compare(before: Specs, after: Specs) -> tuple[list[Change], list[str]]:
    """The changes from `before` to `after`, pipelines paired by name, and notes on specs that
    did not parse (a spec broken at HEAD does not make its pipeline look removed)."""
    notes = [
        f"`{path}` does not parse at the base; its pipeline is compared with nothing: "
        f"{error.splitlines()[0]}"
        for path, error in before.broken.items()
    ]
    hidden = {
        name
        for name, path in before.paths.items()
        if path in after.broken and name not in after.pipelines
    }
    notes += [
        f"`{before.paths[name]}` does not parse at the head, so the changes to `{name}` are "
        "not shown (see the checks)"
        for name in sorted(hidden)
    ]
    gone = [name for name in before.pipelines if name not in after.pipelines and name not in hidden]
    found = [
        change
        for name in [*after.pipelines, *gone]
        for change in changes(before.pipelines.get(name), after.pipelines.get(name))
    ]
    return found, notes


def check_tree(root: Path, spec_dir: str, dag_dir: str) -> list[CheckResult]:
    """`dagsmith check` on a tree, plus generated DAGs that no spec renders any more."""
    folder = root / spec_dir
    specs = spec_files([folder]) if folder.is_dir() else []
    dags = root / dag_dir
    results = check_pipelines(specs, dags, complete=True) if specs else strays([], dags, root, True)
    return [_relative(result, root) for result in results]


def _head_commit(
    repo: Path, head: str, spec_dir: str, dag_dir: str
) -> tuple[str, dict[str, str], list[CheckResult]]:
    """How the report names the head, its spec texts, and the checks of its DAGs."""
    commit = commit_of(repo, head)
    texts = _spec_texts(files_at(repo, commit, spec_dir), spec_dir)
    return f"`{head}` ({commit[:7]})", texts, _check_commit(repo, commit, spec_dir, dag_dir)


def _check_commit(repo: Path, commit: str, spec_dir: str, dag_dir: str) -> list[CheckResult]:
    present = [
        name
        for name in dict.fromkeys((spec_dir, dag_dir))
        if git(repo, "ls-tree", "--name-only", commit, "--", name).strip()
    ]
    with tempfile.TemporaryDirectory(prefix="dagsmith-review-") as tmp:
        root = Path(tmp).resolve()
        if present:
            export(repo, commit, root, *present)
        return check_tree(root, spec_dir, dag_dir)


def _relative(result: CheckResult, root: Path) -> CheckResult:
    prefix = f"{root}{os.sep}"
    return replace(
        result,
        spec=Path(os.path.relpath(result.spec, root)),
        dag=Path(os.path.relpath(result.dag, root)) if result.dag else None,
        problems=[problem.replace(prefix, "") for problem in result.problems],
    )


def _inside(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        raise SpecError(f"{path} is outside the repository {repo}") from None


def _spec_texts(files: dict[str, str], spec_dir: str) -> dict[str, str]:
    """The spec files directly in `spec_dir`, as `dagsmith check` reads a folder."""
    folder = PurePosixPath(spec_dir)
    return {
        name: text
        for name, text in sorted(files.items())
        if PurePosixPath(name).parent == folder and name.endswith(SPEC_SUFFIXES)
    }


def _worktree_texts(repo: Path, spec_dir: str) -> dict[str, str]:
    folder = repo / spec_dir
    paths = spec_files([folder]) if folder.is_dir() else []
    return {
        path.relative_to(repo).as_posix(): path.read_text(encoding="utf-8", errors="replace")
        for path in paths
    }
