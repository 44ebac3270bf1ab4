"""`dagsmith audit`: the trail's records as lines or JSON, and the check of its chain."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.audit import trail
from agent.cli.output import Output, escape

SHOWN_CHARS = 100
"""The most characters of a step's arguments or answer a line shows (`--json`: all)."""


def since_filter(records: list[dict[str, Any]], since: datetime | None) -> list[dict[str, Any]]:
    """The records written at or after `since` (all of them without it)."""
    if since is None:
        return records
    return [r for r in records if datetime.fromisoformat(str(r["time"])) >= since]


def audit_command(
    project_dir: Path, since: datetime | None, as_json: bool, verify: bool, out: Output,
    err: Output,
) -> int:  # fmt: skip
    """Show or verify the project's trail; the exit status (1: a broken chain)."""
    path = trail.trail_path(project_dir)
    if verify:
        found = trail.verify(path)
        for problem in found.problems:
            err.print(f"[red]✗[/] {escape(problem)}", highlight=False)
        if found.problems:
            return 1
        out.print(f"[green]✓[/] {found.records} records, chain intact ({path})", highlight=False)
        return 0
    try:
        records = since_filter(list(trail.read(path)), since)
    except ValueError as exc:
        err.print(f"[red]✗[/] {escape(str(exc))}", highlight=False)
        return 1
    if as_json:
        for record in records:
            out.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    if not records:
        out.print(f"no audit records in {path}", highlight=False)
    for record in records:
        out.print(line(record), highlight=False)
    return 0


def line(record: dict[str, Any]) -> str:
    """One record as two lines: when, who, which model, what; then arguments and answer."""
    status = "[red]error[/]" if record.get("status") == "error" else "ok"
    files = f" · wrote {', '.join(record['files'])}" if record.get("files") else ""
    spec = ""
    if record.get("spec_before") != record.get("spec_after"):
        spec = f" · spec {record.get('spec_before') or '-'} -> {record.get('spec_after')}"
    head = (
        f"{str(record['time'])[:19]} {record['command']} {record['run']} "
        f"[bold]{escape(str(record['tool']))}[/] {status} · {escape(str(record['user']))} · "
        f"{escape(str(record['model']))} ({escape(str(record.get('model_version') or '?'))})"
    )
    detail = _short(str(record.get("args", ""))) + " => " + _short(str(record.get("result", "")))
    return f"{head}{escape(spec + files)}\n  {escape(detail)}  #{str(record['hash'])[:12]}"


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_CHARS else flat[: SHOWN_CHARS - 1] + "…"
