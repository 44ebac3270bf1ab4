"""How the chat shows things: specs as YAML, changes as coloured diffs, dry runs as tables."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from agent.workspace import Checked, DryRun

THEME = "ansi_dark"


def unified(old: str | None, new: str, path: Path) -> str:
    """A unified diff from `old` (None: the file does not exist) to `new`."""
    before = (old or "").splitlines(keepends=True)
    after = new.splitlines(keepends=True)
    name = path.as_posix()
    lines = difflib.unified_diff(
        before, after, "/dev/null" if old is None else f"a/{name}", f"b/{name}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def show_diff(console: Console, text: str) -> None:
    """A unified diff, coloured."""
    console.print(Syntax(text.rstrip("\n"), "diff", theme=THEME, background_color="default"))


def show_yaml(console: Console, text: str) -> None:
    """A spec, highlighted."""
    console.print(Syntax(text.rstrip("\n"), "yaml", theme=THEME, background_color="default"))


def show_python(console: Console, text: str) -> None:
    """A generated DAG, highlighted, with line numbers (as a reviewer reads it)."""
    console.print(
        Syntax(
            text.rstrip("\n"), "python", theme=THEME, line_numbers=True, background_color="default"
        )
    )


def on_disk(path: Path) -> str | None:
    """A file's text, or None when it does not exist."""
    return path.read_text(encoding="utf-8") if path.is_file() else None


def save_diff(checked: Checked) -> str:
    """What saving would change: the spec's and the DAG's diff against the files on disk."""
    return "".join(
        unified(on_disk(path), text, path)
        for path, text in (
            (checked.spec_path, checked.spec_text),
            (checked.dag_path, checked.dag_text),
        )
    )


def change_diff(old: Checked | None, new: Checked) -> str:
    """The spec's diff between two turns (the whole spec when there was none before)."""
    return unified(old.spec_text if old else None, new.spec_text, new.spec_path)


def show_dry_run(console: Console, result: DryRun) -> None:
    """Counts per stream, rejects by reason, and the first loaded rows."""
    table = Table(title="dry run on a sample (scratch DuckDB)", title_justify="left")
    for header in ("stream", "status", "read", "filtered", "loaded", "rejected"):
        table.add_column(header, justify="left" if header in ("stream", "status") else "right")
    for stream in result.summary["streams"]:
        table.add_row(
            stream["stream"],
            stream["status"],
            f"{stream['rows_read']:,}",
            f"{stream.get('rows_filtered', 0):,}",
            f"{stream['rows_loaded']:,}",
            f"{stream['rows_rejected']:,}",
        )
    console.print(table)
    for stream in result.summary["streams"]:
        if stream["error"]:
            console.print(f"[red]{escape(stream['stream'])} failed:[/] {escape(stream['error'])}")
    for reasons in result.rejects.values():
        for reason, count in reasons:
            console.print(f"  [yellow]rejected {count}[/] {escape(reason)}", highlight=False)
    for table_name, rows in result.rows.items():
        if rows:
            console.print(_rows_table(table_name, rows))


def _rows_table(name: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{name}: first rows", title_justify="left")
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape(_cell(value)) for value in row.values()))
    return table


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 40 else text[:39] + "…"
