"""The commands on pipeline specs as written: `validate`, `schema`, `run`, `render`, `check`,
and `audit`, the trail of what the agent did to them."""

from __future__ import annotations

import gc
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    allow_paths,
    app,
    err,
    exit_code,
    fail,
    out,
    parse_since,
)
from agent.cli.output import Output, escape

if TYPE_CHECKING:
    from agent.dags.dagfiles import CheckResult
    from connectors.results import RunSummary
    from connectors.spec.models import Pipeline

SpecPath = Annotated[
    Path, typer.Argument(help="A pipeline spec (YAML).", exists=False, dir_okay=False)
]


@app.command()
def validate(specs: Annotated[list[Path], typer.Argument(help="Pipeline specs (YAML).")]) -> None:
    """Check pipeline specs without running them."""
    from connectors.errors import SpecError
    from connectors.spec import load_spec

    failed = False
    for path in specs:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            err.print(f"[red]✗[/] {escape(str(exc))}", highlight=False)
            failed = True
            continue
        streams = ", ".join(s.name for s in spec.streams)
        out.print(f"[green]✓[/] {escape(str(path))}: pipeline {spec.pipeline} ({streams})")
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference (docs/spec.md) instead.")
    ] = False,
) -> None:
    """Print the pipeline spec's JSON schema, or its reference as Markdown."""
    if markdown:
        from agent.cli.spec_reference import reference

        typer.echo(reference(), nl=False)
        return
    from connectors.spec import Pipeline

    typer.echo(json.dumps(Pipeline.model_json_schema(), indent=2))


@app.command()
def run(
    spec_path: SpecPath,
    stream: Annotated[
        list[str] | None, typer.Option("--stream", "-s", help="Run only this stream (repeatable).")
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(help="Reuse a run id: a committed run with this id is not loaded twice."),
    ] = None,
    full_refresh: Annotated[
        bool,
        typer.Option(help="Ignore stored watermarks: read incremental streams in full."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write an HTML report of the run here: rows per rule, top reasons with "
            "sample rows, timings, column lineage (docs/report.md).",
            dir_okay=False,
        ),
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit",
            help="Write the streams' data-quality rules here as JUnit XML test cases, failed "
            "where they rejected rows (for CI).",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run a pipeline now, outside Airflow."""
    run_spec(
        spec_path, _project_of(spec_path), stream, run_id, full_refresh, as_json, report, junit
    )


def run_spec(
    spec_path: Path,
    project: Path | None,
    stream: list[str] | None = None,
    run_id: str | None = None,
    full_refresh: bool = False,
    as_json: bool = False,
    report: Path | None = None,
    junit: Path | None = None,
) -> None:
    """`dagsmith run`, with `.env` and the embedded warehouse in `project` (None: the working
    folder's); the files of the project the spec belongs to may be read."""
    # Imports allocate much and free little: collecting during them is wasted work.
    gc.disable()
    from connectors.deferred_pandas import defer_pandas

    defer_pandas()  # before the runtime's imports: half a second, for steps without DataFrames
    from agent.cli.console import print_summary, progress_bars
    from connectors.errors import DagsmithError
    from connectors.runner import run_pipeline
    from connectors.spec import load_spec

    # What is imported now lives until exit: the collector need not walk it, in its full
    # passes or at interpreter shutdown (0.2 s of every run).
    gc.freeze()
    gc.enable()
    if (owner := _project_of(spec_path)) is not None:
        allow_paths([owner])
    try:
        spec = load_spec(spec_path)
        with progress_bars(err, enabled=not as_json) as progress:
            summary = run_pipeline(
                spec,
                base_dir=spec_path.resolve().parent,
                project_dir=project,
                only=stream or (),
                run_id=run_id,
                progress=progress,
                full_refresh=full_refresh,
            )
    except DagsmithError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(out, summary)
    if report or junit:
        _write_report(summary, spec, report, junit, err if as_json else out)
    if not summary.ok:
        raise typer.Exit(max(exit_code(r.error) for r in summary.streams if r.error is not None))


def _project_of(spec_path: Path) -> Path | None:
    """The project a spec in a `pipelines/` folder belongs to (its parent), else None.

    A run reads that project's files, `.env` and embedded warehouse, from whatever folder it
    starts, as the spec's DAG does in Airflow.
    """
    from connectors.project_file import project_of

    folder = spec_path.resolve().parent
    return project if (project := project_of(folder)) != folder else None


def _write_report(
    summary: RunSummary, spec: Pipeline, page: Path | None, tests: Path | None, console: Output
) -> None:
    """Write the run's HTML report and JUnit XML where `dagsmith run` was asked to."""
    from connectors import report
    from connectors.errors import DagsmithError

    try:
        report.write(
            summary, spec, page=str(page) if page else None, tests=str(tests) if tests else None
        )
    except OSError as exc:
        fail(DagsmithError(f"cannot write the run report: {exc}", hint="give a writable path"))
    for label, path in (("report", page), ("JUnit XML", tests)):
        if path is not None:
            console.print(f"{label}: {escape(str(path))}", highlight=False)


@app.command()
def render(
    specs: Annotated[list[Path], typer.Argument(help="Pipeline specs (YAML).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder of the generated DAGs.")] = Path(
        "dags"
    ),
) -> None:
    """Render pipeline specs into Airflow DAG files (checked and imported by Airflow first)."""
    from agent.dags.dagfiles import render_all, write_dags
    from connectors.errors import DagsmithError

    try:
        dags = render_all(specs, out_dir)
        write_dags(dags)
    except DagsmithError as exc:
        fail(exc)
    for dag in dags:
        out.print(f"[green]✓[/] {escape(str(dag.path))}: DAG {dag.spec.pipeline}", highlight=False)


@app.command()
def check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Specs or folders of specs (default: pipelines/).")
    ] = None,
    dags: Annotated[Path, typer.Option("--dags", help="Folder of the generated DAGs.")] = Path(
        "dags"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Check specs and their DAGs: valid, up to date, and imported by Airflow as expected."""
    from agent.dags.dagfiles import check_pipelines, spec_files

    named = paths or [Path("pipelines")]
    specs = spec_files(named)
    if not specs:
        err.print("[red]✗[/] no pipeline specs found", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    # Folders hold every spec: a generated DAG none of them renders is a leftover.
    results = check_pipelines(specs, dags, complete=all(path.is_dir() for path in named))
    if as_json:
        typer.echo(json.dumps([result.to_dict() for result in results], indent=2))
    else:
        _print_checks(results)
    if not all(result.ok for result in results):
        raise typer.Exit(EXIT_FAILED)


def _print_checks(results: list[CheckResult]) -> None:
    for result in results:
        if result.ok:
            out.print(f"[green]✓[/] {escape(str(result.spec))} -> {escape(str(result.dag))}")
        else:
            err.print(f"[red]✗[/] {escape(str(result.spec))}", highlight=False)
        for problem in result.problems:
            err.print(f"  {escape(problem)}", highlight=False)
        for warning in result.warnings:
            err.print(f"  [yellow]warning:[/] {escape(warning)}", highlight=False)


@app.command()
def audit(
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=parse_since,
            metavar="WHEN",
            help="Only steps since: 7d, 24h, 30m or 2w ago, or an ISO date or time (UTC).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON record per line.")
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Check the hash chain: exit 1 on an edited or removed record."
        ),
    ] = False,
) -> None:
    """Show what the agent did, step by step (.dagsmith/audit.jsonl), or verify the trail."""
    from agent.audit.view import audit_command

    code = audit_command(Path.cwd(), since, as_json, verify, out, err)
    if code:
        raise typer.Exit(code)
