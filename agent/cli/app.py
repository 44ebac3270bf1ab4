"""The `dagsmith` command line. Heavy modules are imported inside commands, so
`dagsmith --help` stays fast."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

import connectors
from agent.cli.group import DefaultCommandGroup, GlobalOptionsGroup
from agent.cli.output import Output, escape

if TYPE_CHECKING:
    from agent.dags.dagfiles import CheckResult
    from connectors.errors import DagsmithError
    from connectors.results import RunSummary
    from connectors.spec.models import Pipeline

app = typer.Typer(
    name="dagsmith",
    cls=GlobalOptionsGroup,
    help="Describe a data pipeline; get a reviewed, tested Airflow DAG, and run it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# rich is imported only for a terminal or a table: 0.1 s of every start-up otherwise.
out = Output()
err = Output(stderr=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
STEP_NAMES = {
    "validate_spec": "validation",
    "render_dag": "the DAG check",
    "dry_run": "the dry run",
    "save_pipeline": "saving",
    "budget": "the model's call budget",
}

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
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="Log lines as `text` or `json` (one object per line with pipeline, stream, "
            "run id). Default: $DAGSMITH_LOG_FORMAT, else text.",
        ),
    ] = None,
    allow_path: Annotated[
        list[Path] | None,
        typer.Option(
            "--allow-path",
            help="Also read local sources under this folder (repeatable); by default only "
            "the project folder (the working folder) and the spec's folder. "
            "Also: $DAGSMITH_ALLOW_PATHS.",
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            metavar="NAME",
            help="The environment of dagsmith.toml to use: its connection ids and defaults "
            "(docs/environments.md). Also: $DAGSMITH_ENV.",
        ),
    ] = None,
) -> None:
    from connectors.errors import SpecError
    from connectors.logs import configure, resolve_format

    try:
        fmt = resolve_format(log_format)
    except SpecError as exc:
        fail(exc)
    level = logging.INFO if verbose else logging.WARNING
    configure(level, fmt, _log_handler())
    if allow_path:
        _allow_paths([p.resolve() for p in allow_path])
    _select_environment(env)


def _allow_paths(folders: list[Path]) -> None:
    """Add folders local sources may be read from, to the setting itself, so that the
    agent's tools and the DAG checks a command starts see them too."""
    from connectors.sources.files import ALLOW_PATHS_ENV

    given = [os.environ.get(ALLOW_PATHS_ENV, ""), *map(str, folders)]
    os.environ[ALLOW_PATHS_ENV] = os.pathsep.join(p for p in given if p)


def _select_environment(name: str | None) -> None:
    """Make the environment the process's (and the DAG checks' it starts) and apply its
    defaults; the project's environments are read only when it declares some."""
    from connectors.project_file import ENV_VAR, environments_in_play

    if name is not None:
        os.environ[ENV_VAR] = name
    here = Path.cwd()
    if not environments_in_play(here):
        return
    from connectors.environments import apply_defaults
    from connectors.errors import SpecError

    try:
        apply_defaults(here)
    except SpecError as exc:
        fail(exc)


ISO_TIME = "%Y-%m-%dT%H:%M:%S"
"""Log times in ISO 8601, local time (a day/month order reads two ways)."""


def _log_handler() -> logging.Handler:
    """rich's handler on a terminal; elsewhere the same columns (time, level, message) as text."""
    from connectors.logs import Unsummarized

    handler: logging.Handler
    if not err.plain:
        from rich.logging import RichHandler

        handler = RichHandler(console=err.rich, log_time_format=f"[{ISO_TIME}]")
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("[%(asctime)s] %(levelname)-8s %(message)s", ISO_TIME)
        )
    # Every command that runs a stream prints its summary, which names the failure.
    handler.addFilter(Unsummarized())
    return handler


def fail(exc: DagsmithError) -> NoReturn:
    """Print an expected error without a traceback and exit with its code."""
    print_error(exc)
    raise typer.Exit(exit_code(exc))


def print_error(exc: DagsmithError) -> None:
    """An expected error and its hint, on stderr, without a traceback."""
    err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err.print(f"[yellow]hint:[/] {escape(exc.hint)}", highlight=False)


def exit_code(exc: DagsmithError) -> int:
    """2 for input the user must change (a spec, an argument, a setting, a connection to set,
    a source refused), else 1."""
    from connectors.errors import BadInput

    return EXIT_BAD_INPUT if isinstance(exc, BadInput) else EXIT_FAILED


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
    _allow_project_of(spec_path)
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
    if report or junit:
        _write_report(summary, spec, report, junit, err if as_json else out)
    if not summary.ok:
        raise typer.Exit(max(exit_code(r.error) for r in summary.streams if r.error is not None))


def _allow_project_of(spec_path: Path) -> None:
    """Let a run read files of the project its spec belongs to (the folder holding its
    `pipelines/`), from whatever folder it starts: the spec's DAG reads them in Airflow."""
    from connectors.project_file import project_of

    folder = spec_path.resolve().parent
    if (project := project_of(folder)) != folder:
        _allow_paths([project])


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


@app.command()
def audit(
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=_since,
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
def review(
    base: Annotated[
        str | None,
        typer.Argument(help="Revision to compare with (default: the merge base with main)."),
    ] = None,
    head: Annotated[
        str | None, typer.Argument(help="Revision under review (default: HEAD, the commit).")
    ] = None,
    specs: Annotated[Path, typer.Option("--specs", help="Folder of pipeline specs.")] = Path(
        "pipelines"
    ),
    dags: Annotated[Path, typer.Option("--dags", help="Folder of the generated DAGs.")] = Path(
        "dags"
    ),
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write the Markdown to this file.")
    ] = None,
    worktree: Annotated[
        bool, typer.Option("--worktree", help="Review the files on disk, committed or not.")
    ] = False,
    fail_on_risk: Annotated[
        bool, typer.Option("--fail-on-risk", help="Exit 1 when a change is flagged as a risk.")
    ] = False,
) -> None:
    """Explain what changed in the pipelines between two revisions, as Markdown for a pull
    request, and check the DAGs at HEAD. Exits 1 when a check fails."""
    from agent.gitflow.review_repo import review_repo
    from agent.gitflow.review_report import markdown
    from connectors.errors import DagsmithError

    try:
        found = review_repo(Path.cwd(), base, head, specs=specs, dags=dags, worktree=worktree)
    except DagsmithError as exc:
        fail(exc)
    text = markdown(found)
    typer.echo(text, nl=False)
    if out_file is not None:
        out_file.write_text(text, encoding="utf-8")
    if not found.ok or (fail_on_risk and found.risks):
        raise typer.Exit(EXIT_FAILED)


SourceArg = Annotated[
    str | None,
    typer.Argument(
        help="A file path or URL (csv, tsv, json, jsonl, xlsx, xml, parquet), an http(s) URL "
        "on a connection's host, a database's SQLAlchemy URL with --table or --query, "
        "kafka://TOPIC with --connection, a ws:// or wss:// feed, or a pipeline spec with --stream."
    ),
]
ConnectionOpt = Annotated[
    str | None,
    typer.Option(
        "--connection", "-c", help="Connection id of a database, an API's host or Kafka brokers."
    ),
]
TableOpt = Annotated[str | None, typer.Option(help="Source table (with --connection).")]
QueryOpt = Annotated[str | None, typer.Option(help="Source SELECT query (with --connection).")]
StreamOpt = Annotated[str | None, typer.Option(help="Stream of the pipeline spec SOURCE.")]
SampleOpt = Annotated[int, typer.Option("--sample", min=100, help="Most rows to sample.")]


@app.command()
def profile(
    source: SourceArg = None,
    connection: ConnectionOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    stream: StreamOpt = None,
    sample: SampleOpt = 50_000,
    full: Annotated[bool, typer.Option(help="Read every row instead of a sample.")] = False,
    quality: Annotated[bool, typer.Option(help="Add the data-quality report.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    for_agent: Annotated[
        bool, typer.Option("--for-agent", help="Print the bounded summary a model is given.")
    ] = False,
) -> None:
    """Profile a source: types, nulls, keys, cursors and quirks, from a bounded sample."""
    from agent.orchestrator.profile_view import agent_summary, print_profile
    from connectors.errors import DagsmithError
    from connectors.profiling.resolve import Request, profile_request

    request = Request(source, connection, table, query, stream)
    try:
        found = profile_request(
            request, project_dir=Path.cwd(), rows=sample, full=full, with_quality=quality
        )
    except DagsmithError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
    elif for_agent:
        typer.echo(agent_summary(found))
    else:
        print_profile(out.rich, found)


@app.command()
def init(
    name: Annotated[str, typer.Option(help="Pipeline, stream and default table name.")],
    source: SourceArg = None,
    connection: ConnectionOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    stream: StreamOpt = None,
    into: Annotated[str | None, typer.Option(help="Target table (default: NAME).")] = None,
    target: Annotated[
        str | None, typer.Option(help="Target connection id (default: embedded DuckDB).")
    ] = None,
    folder: Annotated[Path, typer.Option("--dir", help="Folder of pipeline specs.")] = Path(
        "pipelines"
    ),
    force: Annotated[
        bool, typer.Option(help="Overwrite an existing spec (and its connection in .env).")
    ] = False,
    print_env: Annotated[
        bool,
        typer.Option(
            "--print-env",
            help="With a URL as SOURCE: print the line that sets its connection instead of "
            "writing it to .env (the line holds the URL's credentials).",
        ),
    ] = False,
    protect: Annotated[
        bool,
        typer.Option(
            "--protect",
            help="Write the proposed transform.protect rules for columns the profile flags as "
            "personal data (without it, the spec's description lists them).",
        ),
    ] = False,
    day_first: Annotated[
        bool, typer.Option("--day-first", help="Read dates like 03/05/2024 as 3 May.")
    ] = False,
    month_first: Annotated[
        bool, typer.Option("--month-first", help="Read dates like 03/05/2024 as 5 March.")
    ] = False,
) -> None:
    """Profile a source and write a pipeline spec for it, ready for `dagsmith run`.

    A URL as SOURCE (a database's, with --table or --query, or an API's) becomes the
    connection NAME_source, saved in the project's .env (mode 0600, ignored by git).
    Columns that look like personal data get a proposed `protect` rule: listed in the
    description, or written with --protect. Dates whose day and month the sample cannot
    tell apart stay text unless --day-first or --month-first says which comes first."""
    from agent.cli.init_pipeline import write_draft
    from connectors.errors import DagsmithError, SpecError
    from connectors.profiling.resolve import Request

    request = Request(source, connection, table, query, stream)
    order = "day_first" if day_first else "month_first" if month_first else None
    try:
        if day_first and month_first:
            raise SpecError("give --day-first or --month-first, not both")
        written = write_draft(
            request,
            name,
            folder,
            into=into,
            target=target,
            force=force,
            save_env=not print_env,
            protect=protect,
            order=order,
        )
    except DagsmithError as exc:
        fail(exc)
    out.print(f"[green]✓[/] wrote {escape(str(written.spec))}", highlight=False)
    for kept in written.kept:
        out.print(
            f"[green]✓[/] allowed the source's folder in {escape(str(kept))} (allow_paths)",
            highlight=False,
        )
    if written.saved is not None:
        saved = written.saved
        out.print(
            f"[green]✓[/] connection {written.connection}: {saved.variable} in "
            f"{escape(str(saved.path))} (mode 0600; {saved.git})",
            highlight=False,
        )
    elif written.export is not None:
        out.print(
            f"set connection {written.connection} first (this line holds its credentials):",
            highlight=False,
        )
        typer.echo(written.export)
    if written.protection:
        out.print(escape(written.protection), highlight=False)
    if written.ambiguous:
        out.print(f"! {escape(written.ambiguous)}", highlight=False)
    out.print(f"run it with: dagsmith run {escape(str(written.spec))}", highlight=False)


@app.command()
def build(
    description: Annotated[str, typer.Argument(help="The pipeline, in plain English.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="offline, openai:<model>, or any provider:model LangChain knows. "
            "Default: $DAGSMITH_MODEL, else openai:gpt-4o-mini with OPENAI_API_KEY, else offline."
        ),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder that gets pipelines/ and dags/.")
    ] = Path("."),
    run_now: Annotated[bool, typer.Option("--run", help="Run the pipeline once saved.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Allow destructive changes (replace a table with data).")
    ] = False,
) -> None:
    """Build a pipeline from a description: profile, spec, render, check (and run)."""
    from agent.orchestrator.build import build_pipeline, failed_check, printer, saved_paths
    from connectors.errors import DagsmithError

    try:
        outcome = build_pipeline(
            description,
            model=model,
            project_dir=Path.cwd(),
            out_dir=out_dir,
            consent=yes,
            show=printer(err.rich),
        )
    except DagsmithError as exc:
        fail(exc)
    failure = failed_check(outcome)
    if failure is not None:
        err.print(
            f"[red]✗ build failed at {STEP_NAMES[failure.step]}[/] ({failure.step}): "
            f"{escape(failure.why)}\n  what to change: {escape(failure.change)}\n"
            "  nothing was written: no spec, no DAG",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)
    paths = saved_paths(outcome)
    if paths is None:
        err.print(f"[yellow]?[/] {escape(outcome.reply)}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    for path in paths:
        out.print(f"[green]✓[/] wrote {escape(str(path))}", highlight=False)
    if run_now:
        run(paths[0])


@app.command()
def pr(
    specs: Annotated[list[Path], typer.Argument(help="Pipeline specs (YAML) to propose.")],
    branch: Annotated[
        str | None, typer.Option(help="The new branch (default: dagsmith/<pipeline>).")
    ] = None,
    base: Annotated[
        str | None, typer.Option(help="The revision the branch starts from (default: HEAD).")
    ] = None,
    dags: Annotated[Path, typer.Option("--dags", help="Folder of the generated DAGs.")] = Path(
        "dags"
    ),
    open_pr: Annotated[
        bool,
        typer.Option("--open/--no-open", help="Push and open the pull request with gh."),
    ] = True,
) -> None:
    """Commit specs and their DAGs on a new branch, with a review, and open a pull request."""
    from agent.gitflow.pr import open_pull_request
    from connectors.errors import DagsmithError

    try:
        made = open_pull_request(
            specs,
            project_dir=Path.cwd(),
            dags_dir=dags,
            branch=branch,
            base=base,
            open_pr=open_pr,
            echo=lambda line: err.print(f"→ {escape(line)}", highlight=False),
        )
    except DagsmithError as exc:
        fail(exc)
    out.print(f"[green]✓[/] branch {escape(made.branch)} at {made.commit[:8]}", highlight=False)
    out.print(f"description: {escape(str(made.body_path))}", highlight=False)
    if made.url:
        out.print(f"pull request: {escape(made.url)}", highlight=False)


@app.command()
def chat(
    model: Annotated[
        str | None,
        typer.Option(help="offline, openai:<model>, or any provider:model (see `build`)."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder that gets pipelines/ and dags/ on /save.")
    ] = Path("."),
    yes: Annotated[
        bool, typer.Option("--yes", help="Allow destructive changes without asking.")
    ] = False,
) -> None:
    """Build a pipeline by conversation in the terminal (/help inside lists the commands)."""
    from agent.chat.conversation import Conversation
    from agent.chat.session import Chat
    from connectors.errors import DagsmithError

    try:
        conversation = Conversation(Path.cwd(), out_dir, model or "", consent=yes)
    except DagsmithError as exc:
        fail(exc)
    Chat(conversation, out.rich).loop()


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


def _since(text: str) -> datetime:
    from connectors.history import since

    try:
        return since(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@runs_app.command("list")
def list_runs(
    pipeline: PipelineArg = None,
    stream: Annotated[str | None, typer.Option("--stream", "-s", help="Only this stream.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            parser=_since,
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


def main() -> None:
    """Console-script entry point."""
    app()
