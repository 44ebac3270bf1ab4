"""Rich rendering of run history (`dagsmith runs`): a table of runs, or one run whole."""

from __future__ import annotations

from datetime import datetime

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from connectors.history import RunDetails, RunRecord
from connectors.running import Marker, lost
from connectors.spec import Pipeline

_STATUS = {"ok": "[green]ok[/]", "failed": "[red]failed[/]"}
TABLE_WIDTH = 120
"""Narrower consoles get two lines a run instead of a table squeezed past reading."""
ERROR_CHARS = 160
"""The most characters of an error a runs list shows (`runs show` shows all of it)."""


def print_runs(console: Console, target: str, records: list[RunRecord]) -> None:
    """The runs of one target, newest first: a table, or two lines a run where the table
    would not fit; then the errors of those that failed."""
    if not records:
        console.print(f"no runs recorded at {escape(target)}", highlight=False)
        return
    console.print(f"[bold]runs at {escape(target)}[/]", highlight=False)
    if console.width >= TABLE_WIDTH:
        console.print(_table(records))
    else:
        for run in records:
            console.print(
                f"{escape(run.run_id)}  {run.pipeline}.{run.stream}  {_STATUS[run.status]}",
                highlight=False,
            )
            watermark = f" · watermark {escape(w)}" if (w := _watermark(run)) else ""
            console.print(
                f"  {_time(run.started_at)} UTC, {run.seconds:.2f} s · {run.counts}{watermark}",
                highlight=False,
            )
    for run in records:
        if run.error:
            console.print(
                f"[red]{escape(run.run_id)} {run.stream} failed:[/] "
                f"{escape(_first_line(run.error, ERROR_CHARS))}",
                highlight=False,
            )


def unfinished(
    specs: list[Pipeline], stream: str | None, since: datetime | None, recorded: list[RunRecord]
) -> list[Marker]:
    """The runs that left a marker and no record, their process gone (killed) or on another
    host (unknown), oldest first: `dagsmith diagnose RUN_ID` explains one."""
    done = {(run.pipeline, run.run_id, run.stream) for run in recorded}
    return [
        marker
        for spec in specs
        for marker in lost(spec.pipeline)
        if (marker.pipeline, marker.run_id, marker.stream) not in done
        and stream in (None, marker.stream)
        and (since is None or marker.started_at >= since)
    ]


def print_unfinished(console: Console, unended: list[Marker]) -> None:
    """The runs that never recorded an end, one line each."""
    for marker in unended:
        status = marker.status + (" (on another host)" if marker.status == "unknown" else "")
        console.print(
            f"[red]{escape(marker.run_id)}[/]  {marker.pipeline}.{marker.stream}  {status}: "
            f"started {_time(marker.started_at)} UTC on {escape(marker.host)} (pid "
            f"{marker.pid}), never recorded an end · dagsmith diagnose {escape(marker.run_id)}",
            highlight=False,
        )


def _table(records: list[RunRecord]) -> Table:
    pipelines = len({run.pipeline for run in records}) > 1
    watermarks = any(_watermark(run) for run in records)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("run id", no_wrap=True)
    if pipelines:
        table.add_column("pipeline")
    table.add_column("stream")
    table.add_column("status")
    table.add_column("started (UTC)")
    for header in ("seconds", "read", "filtered", "rejected", "loaded"):
        table.add_column(header, justify="right")
    if watermarks:
        table.add_column("watermark")
    for run in records:
        table.add_row(
            escape(run.run_id),
            *([run.pipeline] if pipelines else []),
            run.stream,
            _STATUS[run.status],
            _time(run.started_at),
            f"{run.seconds:.2f}",
            f"{run.rows_read:,}",
            f"{run.rows_filtered:,}",
            f"{run.rows_rejected:,}",
            f"{run.rows_loaded:,}",
            *([escape(_watermark(run))] if watermarks else []),
        )
    return table


def print_details(console: Console, details: list[RunDetails]) -> None:
    """One run whole: per stream its counts, times, watermark, error and rejects."""
    first = details[0].record
    console.print(f"[bold]run {escape(first.run_id)}[/] · pipeline {first.pipeline}")
    console.print(f"target: {escape(first.target)}", highlight=False)
    for detail in details:
        run = detail.record
        console.print()
        console.print(
            f"[bold]{run.stream}[/] → {run.table} ({run.mode}): {_STATUS[run.status]}",
            highlight=False,
        )
        console.print(
            f"  started {_time(run.started_at)} UTC, took {run.seconds:.2f} s", highlight=False
        )
        console.print(
            f"  rows: {run.counts} (inserted {run.inserted:,}, updated {run.updated:,})",
            highlight=False,
        )
        if watermark := _watermark(run):
            console.print(f"  watermark: {escape(watermark)}", highlight=False)
        if run.drift:
            console.print(f"  schema drift (contract): {escape(run.drift)}", highlight=False)
        if run.error:
            console.print(f"  [red]error:[/] {escape(run.error)}", highlight=False)
        _print_rejects(console, detail)
    if any(
        d.record.status == "failed" or d.record.rows_rejected or d.record.drift for d in details
    ):
        console.print(f"\nexplain it: dagsmith diagnose {escape(first.run_id)}", highlight=False)


def _print_rejects(console: Console, detail: RunDetails) -> None:
    run = detail.record
    if run.status == "failed" and run.rows_rejected:
        console.print("  its rejected rows were not kept: the failed load rolled them back")
    if detail.rules:
        console.print("  rejected by rule:")
        rules = Table.grid(padding=(0, 2))
        rules.add_column(justify="left")
        rules.add_column(justify="right")
        rules.add_column()
        for rule in detail.rules:
            rules.add_row(escape(rule.rule), f"{rule.rows:,}", f"e.g. {escape(rule.example)}")
        console.print(Padding(rules, (0, 0, 0, 4)))
    if detail.samples:
        console.print(
            f"  rejected rows (the first {len(detail.samples)}; all of them: "
            f"{run.table}__rejects WHERE run_id = '{escape(run.run_id)}'):",
            highlight=False,
        )
        for sample in detail.samples:
            row = "" if sample.row_number is None else f"row {sample.row_number}, "
            console.print(
                f"    {row}{escape(sample.rule)}: {escape(sample.reason)}", highlight=False
            )
            console.print(f"      {escape(sample.raw)}", highlight=False, style="dim")


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _watermark(run: RunRecord) -> str:
    """`before → after`, `before` alone when it did not move; empty without a watermark."""
    before, after = run.watermark_before, run.watermark_after
    if before is None and after is None:
        return ""
    if before == after:
        return f"{before} (unchanged)"
    return f"{before or '–'} → {after or '–'}"


def _first_line(text: str, limit: int) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
