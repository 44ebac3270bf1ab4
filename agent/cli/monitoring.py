"""The commands that watch pipelines run: `runs` (list and show), `health` and `diagnose`,
all read from what the targets recorded."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.common import EXIT_FAILED, app, err, exit_code, fail, out, parse_since, print_error
from agent.cli.group import DefaultCommandGroup
from agent.cli.output import escape

if TYPE_CHECKING:
    from connectors.errors import DagsmithError
    from connectors.spec.models import Pipeline

runs_app = typer.Typer(
    name="runs",
    cls=DefaultCommandGroup,
    help="Run history from the targets' run records: `dagsmith runs [PIPELINE]` lists runs "
    "(`list` is implied), `dagsmith runs show RUN_ID` gives one whole.",
)
app.add_typer(runs_app)
PipelineArg = Annotated[
    str | None,
    typer.Argument(
        help="A pipeline's name (its spec in --specs) or a spec file; default: every spec "
        "in --specs, grouped by target."
    ),
]
SpecsOpt = Annotated[Path, typer.Option("--specs", help="Folder of pipeline specs.")]


@runs_app.command("list")
def list_runs(
    pipeline: PipelineArg = None,
    stream: Annotated[str | None, typer.Option("--stream", "-s", help="Only this stream.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=parse_since,
            metavar="WHEN",
            help="Only runs started since: 7d, 24h, 30m or 2w ago, or an ISO date or time (UTC).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Most runs listed per target.")] = 20,
    specs: SpecsOpt = Path("pipelines"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per run.")] = False,
) -> None:
    """List runs, newest first: status, rows, duration, watermark, error."""
    from agent.cli.runs_view import print_runs, print_unfinished, unfinished
    from connectors.errors import DagsmithError
    from connectors.history import Query, RunRecord, runs, target_of

    codes: list[int] = []
    found: list[RunRecord] = []
    groups = _targets(pipeline, specs, stream)
    for conn_id, group in groups.items():
        try:
            target = target_of(conn_id, Path.cwd())
            records = runs(target, Query([spec for _, spec in group], stream, since, limit))
        except DagsmithError as exc:  # one target out of reach: the others are still listed
            named = pipeline is not None
            codes.append(_out_of_reach(exc, group, named=named, left_out="its runs are not listed"))
            continue
        found += records
        if not as_json:
            print_runs(out.rich, target.label, records)
    every = [spec for group in groups.values() for _, spec in group]
    lost = unfinished(every, stream, since, found)
    if as_json:
        listed = [record.to_dict() for record in found]
        listed += [{**marker.to_dict(), "status": marker.status} for marker in lost]
        typer.echo(json.dumps(listed, indent=2))
    else:
        print_unfinished(out.rich, lost)
    if code := max(codes, default=0):
        raise typer.Exit(code)


@runs_app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="The run's id, as `dagsmith runs` lists it.")],
    pipeline: Annotated[
        str | None,
        typer.Argument(
            help="The run's pipeline: its name (its spec in --specs) or its spec file; "
            "default: look in the targets of every spec in --specs."
        ),
    ] = None,
    samples: Annotated[int, typer.Option(min=0, help="Most rejected rows shown per stream.")] = 5,
    specs: SpecsOpt = Path("pipelines"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Show one run whole: per stream its counts, times, watermark and error, its rejects by
    rule and sample rejected rows."""
    from agent.cli.runs_view import print_details
    from connectors.errors import DagsmithError
    from connectors.history import Query, RunDetails, RunNotFound, run_details, target_of

    found: list[RunDetails] = []
    problems: list[tuple[list[tuple[Path, Pipeline]], DagsmithError]] = []
    for conn_id, group in _targets(pipeline, specs, None).items():
        try:
            target = target_of(conn_id, Path.cwd())
            query = Query([spec for _, spec in group], limit=None, run_id=run_id)
            found += run_details(target, query, samples)
        except DagsmithError as exc:
            problems.append((group, exc))
    if not found and len(problems) == 1:
        fail(problems[0][1])
    for group, problem in problems:
        if not isinstance(problem, RunNotFound):  # a target out of reach may hold the run
            named = pipeline is not None
            _out_of_reach(problem, group, named=named, left_out="its target was not looked in")
    if not found:
        fail(
            RunNotFound(
                f"no run {run_id!r} in the targets of the specs in {specs}/",
                hint="`dagsmith runs` lists the runs and their ids",
            )
        )
    if as_json:
        typer.echo(json.dumps([details.to_dict() for details in found], indent=2))
    else:
        print_details(out.rich, found)


@app.command()
def health(
    pipelines: Annotated[
        list[str] | None,
        typer.Argument(
            help="Pipelines: names (their specs in --specs) or spec files; default: every "
            "spec in --specs."
        ),
    ] = None,
    stream: Annotated[str | None, typer.Option("--stream", "-s", help="Only this stream.")] = None,
    push: Annotated[
        bool,
        typer.Option("--push", help="Push the results as gauges to $DAGSMITH_PUSHGATEWAY_URL."),
    ] = False,
    specs: SpecsOpt = Path("pipelines"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Judge each stream against its own recent runs: freshness, a failed last run, volume,
    reject rate per rule, duration, a stalled watermark, schema drift. Exits 1 when a check
    fails (docs/monitoring.md)."""
    from agent.cli.health_view import print_health
    from connectors.errors import DagsmithError
    from connectors.health import PipelineHealth, check_pipeline
    from connectors.health.gauges import push as push_gauges
    from connectors.history import target_of
    from connectors.metrics import PUSHGATEWAY_ENV

    if push and not os.environ.get(PUSHGATEWAY_ENV):
        raise typer.BadParameter(f"--push needs {PUSHGATEWAY_ENV}", param_hint="--push")
    grouped: dict[str | None, list[tuple[Path, Pipeline]]] = {}
    names: list[str | None] = [*pipelines] if pipelines else [None]
    for name in names:
        for conn_id, group in _targets(name, specs, stream).items():
            grouped.setdefault(conn_id, []).extend(group)
    codes: list[int] = []
    found: list[PipelineHealth] = []
    for conn_id, group in grouped.items():
        for path, spec in group:
            if stream is not None and all(s.name != stream for s in spec.streams):
                continue
            try:
                judged = check_pipeline(spec, target_of(conn_id, Path.cwd()), stream)
            except DagsmithError as exc:  # one target out of reach: the others are still judged
                left_out = "its health is not judged"
                named = bool(pipelines)
                codes.append(_out_of_reach(exc, [(path, spec)], named=named, left_out=left_out))
                continue
            found.append(judged)
            if push:
                push_gauges(judged)
            if not as_json:
                print_health(out.rich, judged)
    if as_json:
        typer.echo(json.dumps([judged.to_dict() for judged in found], indent=2))
    codes += [EXIT_FAILED for judged in found if not judged.ok]
    if code := max(codes, default=0):
        raise typer.Exit(code)


@app.command()
def diagnose(
    target: Annotated[
        str, typer.Argument(help="A run id (as `dagsmith runs` lists it) or a pipeline's name.")
    ],
    spec: Annotated[
        list[Path] | None,
        typer.Option("--spec", help="Spec files to look in (default: those in pipelines/)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="offline, openai:<model>, or any provider:model (see `build`)."),
    ] = None,
    open_pr: Annotated[
        bool, typer.Option("--pr", help="Open the checked change as a pull request.")
    ] = False,
    publish: Annotated[
        bool,
        typer.Option("--open/--no-open", help="With --pr: push and open it with gh, as `pr`."),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnosis as JSON.")] = False,
) -> None:
    """Explain a failed or unhealthy run and propose a spec change, validated and dry-run
    first; it never applies one (docs/diagnose.md)."""
    from agent.cli.diagnose_view import print_diagnosis
    from agent.monitor.run import diagnose_target
    from connectors.errors import DagsmithError

    try:
        report = diagnose_target(target, spec or [], Path.cwd(), model)
    except DagsmithError as exc:
        print_error(exc)
        raise typer.Exit(EXIT_FAILED) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_diagnosis(out.rich, report)
    if open_pr:
        from agent.monitor.pr import open_diagnosis_pr

        try:
            made = open_diagnosis_pr(
                report,
                Path.cwd(),
                Path("dags"),
                open_pr=publish,
                echo=lambda line: err.print(f"→ {escape(line)}", highlight=False),
            )
        except DagsmithError as exc:
            print_error(exc)
            raise typer.Exit(EXIT_FAILED) from None
        err.print(f"[green]✓[/] branch {escape(made.branch)} at {made.commit[:8]}", highlight=False)
        if made.url:
            err.print(f"pull request: {escape(made.url)}", highlight=False)


def _targets(
    named: str | None, folder: Path, stream: str | None
) -> dict[str | None, list[tuple[Path, Pipeline]]]:
    """The specs asked for and their files, grouped by their target's connection id (None:
    embedded)."""
    from connectors.errors import SpecError
    from connectors.spec.io import find_spec, project_specs

    try:
        if named is not None:
            specs = [find_spec(named, folder)]
        else:
            specs, problems = project_specs(folder)
            for problem in problems:
                err.print(f"[yellow]skipped:[/] {escape(str(problem))}", highlight=False)
            if not specs:
                raise SpecError(f"no valid pipeline spec in {folder}/", hint="name one: PIPELINE")
        if stream is not None and all(s.name != stream for _, p in specs for s in p.streams):
            names = ", ".join(spec.pipeline for _, spec in specs)
            raise SpecError(f"no stream {stream!r} in pipeline {names}")
    except SpecError as exc:
        fail(exc)
    grouped: dict[str | None, list[tuple[Path, Pipeline]]] = {}
    for path, spec in specs:
        grouped.setdefault(spec.target, []).append((path, spec))
    return grouped


def _out_of_reach(
    exc: DagsmithError, specs: list[tuple[Path, Pipeline]], *, named: bool, left_out: str
) -> int:
    """Report the target of `specs` that a read-only command could not read; the exit code
    it calls for (0: a warning).

    Reading what a target recorded needs its connection, but a spec the user did not name
    whose connection is not set here (one deployed elsewhere) must not fail the command
    about the others: it is named, with what to set, as a warning."""
    from connectors.errors import ConnectionNotFound

    if named or not isinstance(exc, ConnectionNotFound):
        print_error(exc)
        return exit_code(exc)
    for path, spec in specs:
        err.print(
            f"[yellow]warning:[/] {escape(str(path))} (pipeline {spec.pipeline}): {left_out}: "
            f"{escape(exc.message)}",
            highlight=False,
        )
    if exc.hint:
        err.print(f"[yellow]hint:[/] {escape(exc.hint)}", highlight=False)
    return 0
