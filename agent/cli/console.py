"""Rendering of runs: live progress while rows flow, a summary table after.

rich is imported only for a terminal (or a caller's own rich console): piped output is
plain text (`agent.cli.output`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from agent.cli.output import Output, escape

if TYPE_CHECKING:
    from rich.console import Console

    from connectors.results import RunSummary
    from connectors.runner import Progress as ProgressCallback

_STATUS = {"ok": "[green]ok[/]", "skipped": "[yellow]already loaded[/]", "failed": "[red]failed[/]"}


@contextmanager
def progress_bars(console: Console | Output, *, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress callback that shows rows read per stream (or None when disabled)."""
    if not enabled or (isinstance(console, Output) and console.plain):
        # rich draws no bars off a terminal either (its live display needs one).
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    if isinstance(console, Output):
        console = console.rich
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def update(stream: str, rows: int) -> None:
            if stream not in tasks:
                tasks[stream] = bars.add_task(stream, total=None)
            bars.update(tasks[stream], completed=rows)

        yield update


def print_summary(console: Console | Output, summary: RunSummary) -> None:
    """The per-stream table, then the target and any errors."""
    title = f"pipeline {summary.pipeline} · run {summary.run_id}"
    headers = ("stream", "table", "mode", "read", "filtered", "rejected", "loaded", "seconds")
    rows: list[tuple[str, ...]] = []
    for result in summary.streams:
        row = result.to_dict()
        rows.append(
            (
                row["stream"],
                row["table"],
                row["mode"],
                f"{row['rows_read']:,}",
                f"{row['rows_filtered']:,}",
                f"{row['rows_rejected']:,}",
                f"{row['rows_loaded']:,}",
                f"{row['seconds']:.2f}",
                _STATUS[row["status"]],
            )
        )
    if isinstance(console, Output) and console.plain:
        console.print(escape(title), highlight=False)
        console.table((*headers, "status"), rows, right=3)
    else:
        _rich_table(console, title, headers, rows)
    where = summary.target.label
    if summary.target.embedded:
        where += " (embedded DuckDB: no target configured in the spec)"
    console.print(f"target: {escape(where)}", highlight=False)
    if summary.target.browse and any(result.error is None for result in summary.streams):
        console.print(escape(summary.target.browse), highlight=False)
    for result in summary.streams:
        load = result.load
        if result.mode == "upsert" and load is not None and not load.skipped:
            # `loaded` counts the rows offered to the merge: say what they did to the table.
            console.print(
                f"{result.stream}: {load.inserted:,} inserted, {load.updated:,} updated, "
                f"{load.unchanged:,} unchanged",
                highlight=False,
            )
        if result.stats.rows_rejected and result.error is None:  # a failed run wrote none
            console.print(
                f"[yellow]{result.stream}[/]: rejected rows are in {result.table}__rejects "
                f"({', '.join(f'{k}: {v}' for k, v in result.stats.by_rule.items())})",
                highlight=False,
            )
        if result.error is not None:
            console.print(f"[red]{result.stream} failed:[/] {escape(str(result.error))}")


def _rich_table(
    console: Console | Output, title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]]
) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for header in (*headers, "status"):
        table.add_column(header, justify="right" if header in headers[3:] else "left")
    for row in rows:
        table.add_row(*row)
    console.print(table)
