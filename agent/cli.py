"""The `dagsmith` command line. Heavy modules are imported inside commands, so
`dagsmith --help` stays fast."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

import connectors

if TYPE_CHECKING:
    from agent.dagfiles import CheckResult
    from connectors.errors import DagsmithError

app = typer.Typer(
    name="dagsmith",
    help="Describe a data pipeline; get a reviewed, tested Airflow DAG, and run it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

SpecPath = Annotated[
    Path, typer.Argument(help="A pipeline spec (YAML).", exists=False, dir_okay=False)
]


def _version(value: bool) -> None:
    if value:
        out.print(f"dagsmith {connectors.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Log what each rule did.")
    ] = False,
) -> None:
    level = logging.INFO if verbose else logging.WARNING
    from rich.logging import RichHandler

    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(console=err)])


def fail(exc: DagsmithError) -> NoReturn:
    """Print an expected error without a traceback and exit with its code."""
    from connectors.errors import ConnectionNotFound, SpecError

    err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err.print(f"[yellow]hint:[/] {escape(exc.hint)}", highlight=False)
    bad_input = isinstance(exc, SpecError | ConnectionNotFound)
    raise typer.Exit(EXIT_BAD_INPUT if bad_input else EXIT_FAILED)


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
def schema() -> None:
    """Print the pipeline spec's JSON schema."""
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
) -> None:
    """Run a pipeline now, outside Airflow."""
    from agent.console import print_summary, progress_bars
    from connectors.errors import DagsmithError
    from connectors.runner import run_pipeline
    from connectors.spec import load_spec

    try:
        spec = load_spec(spec_path)
        with progress_bars(err, enabled=not as_json) as progress:
            summary = run_pipeline(
                spec,
                base_dir=spec_path.resolve().parent,
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
    if not summary.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def render(
    specs: Annotated[list[Path], typer.Argument(help="Pipeline specs (YAML).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder of the generated DAGs.")] = Path(
        "dags"
    ),
) -> None:
    """Render pipeline specs into Airflow DAG files (checked and imported by Airflow first)."""
    from agent.dagfiles import render_all, write_dags
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
    from agent.dagfiles import check_pipelines, spec_files

    specs = spec_files(paths or [Path("pipelines")])
    if not specs:
        err.print("[red]✗[/] no pipeline specs found", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    results = check_pipelines(specs, dags)
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
            continue
        err.print(f"[red]✗[/] {escape(str(result.spec))}", highlight=False)
        for problem in result.problems:
            err.print(f"  {escape(problem)}", highlight=False)


def main() -> None:
    """Console-script entry point."""
    app()
