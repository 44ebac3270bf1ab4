"""DAG files on disk: write rendered DAGs (after Airflow imports them), and check them.

`write_dags` imports every rendered DAG with Airflow's DagBag in a temporary folder and
writes nothing unless all of them import with the expected tasks. `check_pipelines`
re-renders each spec and compares with the file on disk: a stale or hand-edited DAG is a
problem that names the differing lines.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.dags.checks import ImportReport, import_dags, structure_problems
from agent.dags.render import RenderedDag, RenderError, render
from agent.security.code import dag_problems
from connectors import dagfile
from connectors.errors import SpecError
from connectors.spec import Pipeline, load_spec, parse_spec

MAX_DIFF_LINES = 20


@dataclass
class CheckResult:
    """The outcome of checking one spec and its DAG."""

    spec: Path
    dag: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        return {
            "spec": str(self.spec),
            "dag": str(self.dag) if self.dag else None,
            "ok": self.ok,
            "problems": self.problems,
        }


def spec_files(paths: list[Path]) -> list[Path]:
    """The spec files named, with folders expanded to their `*.yaml` / `*.yml`."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"})
        else:
            found.append(path)
    return found


def render_all(
    specs: list[Path], out_dir: Path, texts: Mapping[Path, str] | None = None
) -> list[RenderedDag]:
    """Load and render each spec (from `texts` in place of its file, where given); two specs
    of one pipeline name are an error."""
    texts = texts or {}
    rendered = [
        render(
            parse_spec(texts[path], str(path)) if path in texts else load_spec(path), path, out_dir
        )
        for path in specs
    ]
    names = [dag.path.name for dag in rendered]
    if dupes := sorted({name for name in names if names.count(name) > 1}):
        raise RenderError(f"two specs render to the same DAG file: {', '.join(dupes)}")
    return rendered


def write_dags(dags: list[RenderedDag]) -> None:
    """Write the DAGs, after Airflow's DagBag imported each with the expected tasks."""
    reports = import_texts([(dag.path, dag.text) for dag in dags])
    problems = [
        f"{dag.path.name}: {problem}"
        for dag, report in zip(dags, reports, strict=True)
        for problem in structure_problems(report, dag.spec)
    ]
    if problems:
        raise RenderError("Airflow refused the rendered DAG(s):\n  " + "\n  ".join(problems))
    for dag in dags:
        dag.path.parent.mkdir(parents=True, exist_ok=True)
        dag.path.write_text(dag.text, encoding="utf-8")


def import_texts(files: list[tuple[Path, str]], project: Path | None = None) -> list[ImportReport]:
    """Import DAG sources with DagBag in a scratch folder; one report per file, in order.

    Each is imported as if it were at its path: the project a DAG file finds its
    connections in (`.env`) and its embedded database is `project`, by default that of
    the files' real folder.
    """
    names = [path.name for path, _ in files]
    projects = {project} if project else {dagfile.project_dir(str(path)) for path, _ in files}
    with tempfile.TemporaryDirectory(prefix="dagsmith-") as tmp, _project_of(projects):
        folder = Path(tmp).resolve()
        for path, text in files:
            (folder / path.name).write_text(text, encoding="utf-8")
        reports = import_dags(folder)
        return [reports.get(folder / name) or ImportReport(folder / name) for name in names]


@contextlib.contextmanager
def _project_of(projects: set[Path]) -> Iterator[None]:
    """`DAGSMITH_PROJECT_DIR` set to the one project (unless the user set it), meanwhile."""
    if os.environ.get(dagfile.PROJECT_DIR_ENV) or len(projects) != 1:
        yield
        return
    os.environ[dagfile.PROJECT_DIR_ENV] = str(projects.pop())
    try:
        yield
    finally:
        os.environ.pop(dagfile.PROJECT_DIR_ENV, None)


def check_pipelines(
    specs: list[Path], dags_dir: Path, project: Path | None = None
) -> list[CheckResult]:
    """Validate, re-render and compare each spec's DAG, then import the DAGs on disk (as
    DAGs of `project`, by default the parent of `dags_dir`)."""
    results: list[CheckResult] = []
    on_disk: list[tuple[CheckResult, Pipeline, Path, str]] = []
    for path in specs:
        result = CheckResult(path)
        results.append(result)
        try:
            dag = render(load_spec(path), path, dags_dir)
        except SpecError as exc:
            result.problems.append(str(exc))
            continue
        result.dag = dag.path
        if not dag.path.is_file():
            result.problems.append(f"no DAG at {dag.path}: run `dagsmith render {path}`")
            continue
        text = dag.path.read_text(encoding="utf-8")
        result.problems += stale_lines(text, dag.text, dag.path)
        result.problems += dag_problems(text, dag.path)
        on_disk.append((result, dag.spec, dag.path, text))
    reports = import_texts([(path, text) for _, _, path, text in on_disk], project)
    for (result, spec, _, _), report in zip(on_disk, reports, strict=True):
        result.problems += structure_problems(report, spec)
    return results


def stale_lines(on_disk: str, expected: str, path: Path) -> list[str]:
    """The lines where a DAG on disk differs from what its spec renders to."""
    if on_disk == expected:
        return []
    old, new = on_disk.splitlines(), expected.splitlines()
    lines: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        lines += [f"  {path}:{i + 1}: - {old[i]}" for i in range(i1, i2)]
        lines += [f"  {path}:{i1 + 1}: + {line}" for line in new[j1:j2]]
    shown = lines[:MAX_DIFF_LINES] + (["  ..."] if len(lines) > MAX_DIFF_LINES else [])
    header = f"{path} does not match its spec (stale or edited by hand; run `dagsmith render`):"
    return [header + "\n" + "\n".join(shown)]
