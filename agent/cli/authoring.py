"""The commands that write pipelines and propose them: `review`, `profile`, `init`, `build`,
`pr` and `chat`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, app, err, fail, out
from agent.cli.output import escape
from agent.cli.pipelines import run_spec


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
    sheet: Annotated[
        str | None,
        typer.Option(
            "--sheet",
            help="Excel: the sheet to read (default: the first one that holds data).",
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            "--header-row",
            min=1,
            help="Excel: the 1-based row of the column names (default: found under any title).",
        ),
    ] = None,
) -> None:
    """Profile a source and write a pipeline spec for it, ready for `dagsmith run`.

    A URL as SOURCE (a database's, with --table or --query, or an API's) becomes the
    connection NAME_source, saved in the project's .env (mode 0600, ignored by git).
    Columns that look like personal data get a proposed `protect` rule: listed in the
    description, or written with --protect. Dates whose day and month the sample cannot
    tell apart stay text unless --day-first or --month-first says which comes first. An
    Excel sheet's table may sit under a title: its header row is found, or --header-row
    says which it is."""
    from agent.cli.init_pipeline import write_draft
    from connectors.errors import DagsmithError, SpecError
    from connectors.profiling.resolve import Request

    given = {"sheet": sheet, "header_row": header_row}
    options = tuple((key, value) for key, value in given.items() if value is not None)
    request = Request(source, connection, table, query, stream, options=options)
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


STEP_NAMES = {
    "validate_spec": "validation",
    "render_dag": "the DAG check",
    "dry_run": "the dry run",
    "save_pipeline": "saving",
    "budget": "the model's call budget",
}


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
    if run_now:  # in the project its check ran in: the working folder
        run_spec(paths[0], Path.cwd())


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
