"""What a pull request says about each pipeline, found before anything is committed.

`check` runs `dagsmith check` on a scratch copy of the files to commit; `propose` profiles
each stream's source, dry-runs the pipeline on a sample, compares the spec with its version
at the base commit, and raises the risk flags.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent.dags.dagfiles import check_pipelines
from agent.dags.render import RenderedDag
from agent.gitflow import git, risks
from agent.gitflow.changes import Change, changes
from agent.workspace import DryRun, dry_run, relocate
from connectors.errors import DagsmithError, SpecError
from connectors.profiling import Profile
from connectors.profiling.resolve import Request, profile_request
from connectors.spec import Pipeline, parse_spec

PROFILE_ROWS = 20_000


@dataclass(frozen=True)
class Proposal:
    """One pipeline of a pull request and everything found about it.

    Attributes:
        spec: The spec, its local source paths relative to the repository's root.
        spec_path: The spec file, relative to the repository's root.
        dag_path: The generated DAG, relative to the repository's root.
        new: Whether the spec file did not exist at the base commit.
        profiles: Stream name -> its source's profile, or why it could not be profiled.
        dry_run: The run on a sample, or why it failed.
        changes: What changed since the base commit, in a reviewer's words.
        risks: What a reviewer should look at twice.
    """

    spec: Pipeline
    spec_path: str
    dag_path: str
    new: bool
    profiles: Mapping[str, Profile | str]
    dry_run: DryRun | str
    changes: list[Change] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)

    @property
    def verb(self) -> str:
        """`Add` or `Update`."""
        return "Add" if self.new else "Update"


def check(
    specs: list[str], dags_dir: str, contents: dict[str, str], echo: Callable[[str], None]
) -> list[str]:
    """`dagsmith check` on a scratch copy of the files to commit; the problems found.

    Args:
        specs: The spec files to check, relative to the repository's root.
        dags_dir: The DAGs' folder, relative to the repository's root.
        contents: Path (relative to the root) -> text of every spec and DAG to commit.
        echo: Receives a line for the user.
    """
    echo(f"checking {', '.join(specs)}")
    with tempfile.TemporaryDirectory(prefix="dagsmith-pr-") as tmp:
        root = Path(tmp)
        for path, text in contents.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        results = check_pipelines([root / spec for spec in specs], root / dags_dir)
        return [p.replace(f"{root}/", "") for result in results for p in result.problems]


def propose(
    repo: Path,
    start: str,
    spec_path: Path,
    dag: RenderedDag,
    project_dir: Path,
    echo: Callable[[str], None],
) -> Proposal:
    """Profile, dry-run and compare one pipeline with its version at the commit `start`.

    Sources are read from `project_dir`, which also holds `.env` and the embedded target.
    """
    spec, folder = dag.spec, spec_path.parent
    echo(f"profiling and dry-running {spec.pipeline}")
    profiles = {s.name: _profile(spec_path, s.name, project_dir) for s in spec.streams}
    tried = _dry_run(relocate(spec, folder, project_dir), project_dir)
    flags = risks.replaced_tables(spec, project_dir) + risks.risk_flags(spec, profiles, tried)
    old = _spec_at(repo, start, git.repo_path(repo, spec_path))
    return Proposal(
        spec=relocate(spec, folder, repo),
        spec_path=git.repo_path(repo, spec_path),
        dag_path=git.repo_path(repo, dag.path),
        new=old is None,
        profiles=profiles,
        dry_run=tried,
        changes=changes(old, spec),
        risks=flags,
    )


def _profile(spec_path: Path, stream: str, project_dir: Path) -> Profile | str:
    try:
        return profile_request(
            Request(str(spec_path), stream=stream),
            project_dir=project_dir,
            rows=PROFILE_ROWS,
            full=False,
            with_quality=True,
        )
    except DagsmithError as exc:
        return exc.message


def _dry_run(spec: Pipeline, project_dir: Path) -> DryRun | str:
    try:
        return dry_run(spec, project_dir)
    except DagsmithError as exc:
        return exc.message


def _spec_at(repo: Path, commit: str, path: str) -> Pipeline | None:
    """The spec file at a commit; None when it did not exist there or was not valid."""
    text = git.files_at(repo, commit, path).get(path)
    if text is None:
        return None
    try:
        return parse_spec(text, f"{path} at {commit[:8]}")
    except SpecError:
        return None
