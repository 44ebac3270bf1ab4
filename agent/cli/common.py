"""What every command of the `dagsmith` command line shares: the typer `app` with its global
options (the root callback), the consoles, the exit codes and how an expected error ends a
command."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

import connectors
from agent.cli.group import GlobalOptionsGroup
from agent.cli.output import Output, escape

if TYPE_CHECKING:
    from connectors.errors import DagsmithError

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
        allow_paths([p.resolve() for p in allow_path])
    _select_environment(env)


def allow_paths(folders: list[Path]) -> None:
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


def parse_since(text: str) -> datetime:
    """The time a `--since` option names (7d, an ISO date...); a usage error if none."""
    from connectors.history import since

    try:
        return since(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
