"""Rich rendering of `dagsmith health`: per stream, its failed checks whole, the rest named."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from connectors.health import PipelineHealth, StreamHealth
from connectors.health.schedule import when

_SEVERITY = {"critical": "[bold red]critical[/]", "warning": "[yellow]warning[/]"}


def print_health(console: Console, health: PipelineHealth) -> None:
    """One pipeline: a line per stream, then each failed check's expected, seen and since."""
    console.print(f"[bold]{health.pipeline}[/] · {escape(health.target)}", highlight=False)
    if not health.streams:
        console.print("  no stream to check (monitor: off)")
    width = max((len(stream.stream) for stream in health.streams), default=0)
    for stream in health.streams:
        console.print(f"  {stream.stream:<{width}}  {_verdict(stream)}", highlight=False)
        for result in stream.findings:
            console.print(f"    [red]✗[/] {result.check} ({_SEVERITY[result.severity]})")
            console.print(f"        expected  {escape(result.expected)}", highlight=False)
            console.print(f"        seen      {escape(result.seen)}", highlight=False)
            if result.since is not None:
                console.print(f"        since     {when(result.since)}", highlight=False)
        for result in stream.results:
            if result.status == "waiting":
                console.print(
                    f"    [dim]… {result.check}: waits for {escape(result.expected)} "
                    f"({escape(result.seen)})[/]",
                    highlight=False,
                )
    if not health.ok:
        console.print(f"  explain it: dagsmith diagnose {health.pipeline}", highlight=False)


def _verdict(stream: StreamHealth) -> str:
    names = list(dict.fromkeys(result.check for result in stream.results))
    failed = list(dict.fromkeys(result.check for result in stream.findings))
    if failed:
        return f"[red]✗ {len(failed)} of {len(names)} checks failed[/]"
    passed = [r.check for r in stream.results if r.status == "ok"]
    return f"[green]✓ healthy[/] ({', '.join(passed) or 'nothing to judge yet'})"
