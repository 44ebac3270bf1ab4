"""Rich rendering of `dagsmith diagnose`: the finding, what happened, the evidence, the
proposed change as a diff (checked or, with why, not), and what a person must do."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from agent.monitor.run import Report

_DIFF_STYLE = {"+": "green", "-": "red", "@": "cyan"}


def print_diagnosis(console: Console, report: Report) -> None:
    """One diagnosis, for a person."""
    said = report.to_dict()
    run = said["run_id"] or "no run"
    console.print(
        f"[bold]{escape(said['pipeline'])}[/] · {escape(said['stream'] or '')} · "
        f"{escape(run)} · model {escape(said['model'])}",
        highlight=False,
    )
    mark = "[green]✓[/]" if said["finding"] == "healthy" else "[red]✗[/]"
    console.print(f"{mark} [bold]{said['finding']}[/]: {escape(said['what_happened'])}")
    if said["evidence"]:
        console.print("evidence:")
        for fact in said["evidence"]:
            console.print(f"  - {escape(fact)}", highlight=False)
    proposed = report.proposed
    if proposed is not None:
        state = (
            "[green]checked[/] (valid, dry run passed)"
            if proposed.checked
            else "[red]not checked[/]"
        )
        console.print(f"proposed change: {escape(proposed.summary)} · {state}")
        if proposed.trial:
            console.print(f"  {escape(proposed.trial)}", highlight=False)
        if proposed.why:
            console.print(f"  [red]why:[/] {escape(proposed.why)}", highlight=False)
        for line in proposed.diff.splitlines():
            style = "bold" if line.startswith(("+++", "---")) else _DIFF_STYLE.get(line[:1])
            text = escape(line)
            console.print(f"  [{style}]{text}[/]" if style else f"  {text}", highlight=False)
        if proposed.checked:
            console.print("nothing was changed: apply the diff, or open it with --pr")
    if said["action"]:
        console.print(f"[yellow]to do:[/] {escape(said['action'])}", highlight=False)
