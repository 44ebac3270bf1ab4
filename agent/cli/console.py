"""Rich rendering of runs: live progress while rows flow, a summary table after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from connectors.results import RunSummary
from connectors.runner import Progress as ProgressCallback

_STATUS = {"ok": "[green]ok[/]", "skipped": "[yellow]already loaded[/]", "failed": "[red]failed[/]"}


@contextmanager
def progress_bars(console: Console, *, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress callback that shows rows read per stream (or None when disabled)."""
    if not enabled:
        yield None
        return
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


def print_summary(console: Console, summary: RunSummary) -> None:
    """The per-stream table, then the target and any errors."""
    table = Table(title=f"pipeline {summary.pipeline} · run {summary.run_id}", title_justify="left")
    headers = ("stream", "table", "mode", "read", "filtered", "rejected", "loaded", "seconds")
    for header in (*headers, "status"):
        numeric = header in headers[3:]
        table.add_column(header, justify="right" if numeric else "left")
    for result in summary.streams:
        row = result.to_dict()
        table.add_row(
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
    console.print(table)
    where = summary.target.label
    if summary.target.embedded:
        where += " (embedded DuckDB: no target configured in the spec)"
    console.print(f"target: {escape(where)}", highlight=False)
    if summary.target.browse:
        console.print(escape(summary.target.browse), highlight=False)
    for result in summary.streams:
        if result.stats.rows_rejected and result.error is None:  # a failed run wrote none
            console.print(
                f"[yellow]{result.stream}[/]: rejected rows are in {result.table}__rejects "
                f"({', '.join(f'{k}: {v}' for k, v in result.stats.by_rule.items())})",
                highlight=False,
            )
        if result.error is not None:
            console.print(f"[red]{result.stream} failed:[/] {escape(str(result.error))}")
