"""`dagsmith build`: from a sentence to a saved, checked pipeline, showing each step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.exceptions import ModelError as LangChainModelError
from rich.console import Console
from rich.markup import escape

from agent.orchestrator import Outcome, Step, choose_model, run_agent
from agent.tools import Session
from connectors.errors import TransientError

SHOWN_CHARS = 160
_HEADLINE = {"profile_source": 1, "infer_schema": 1, "dry_run": 1}
"""The line of a tool's answer worth a glance (the first is a preamble for these)."""


class ModelError(TransientError):
    """The chat model could not be reached or refused the request."""


def build_pipeline(
    description: str,
    *,
    model: str | None,
    project_dir: Path,
    out_dir: Path,
    consent: bool,
    show: Callable[[Step], None],
) -> Outcome:
    """Run the agent on a description; `show` sees each step as it happens.

    Raises:
        SpecError: The model name is unknown.
        ModelError: The model failed (after the client's own retries).
    """
    chat_model = choose_model(model)
    session = Session(description, project_dir, out_dir, consent=consent)
    outcome = Outcome()
    try:
        for step in run_agent(chat_model, session):
            outcome.steps.append(step)
            show(step)
    except LangChainModelError as exc:
        # The client's message may quote the request: say what failed, not what was sent.
        status = getattr(exc, "status_code", None)
        raise ModelError(
            f"the model failed: {type(exc).__name__}" + (f" (HTTP {status})" if status else ""),
            hint="check the model name, OPENAI_BASE_URL and OPENAI_API_KEY, or use --model offline",
        ) from None
    return outcome


def saved_paths(outcome: Outcome) -> list[Path] | None:
    """The spec and DAG that save_pipeline wrote, or None when the build stopped before."""
    found: Any = outcome.artifact("save_pipeline")
    return list(found) if found else None


def printer(console: Console) -> Callable[[Step], None]:
    """Show agent steps as one line each: calls, results, errors."""

    def show(step: Step) -> None:
        if step.kind == "call":
            console.print(f"[bold]→ {step.name}[/] {escape(_args(step.text))}", highlight=False)
        elif step.kind == "result":
            lines = step.text.splitlines() or [""]
            line = lines[min(_HEADLINE.get(step.name, 0), len(lines) - 1)]
            console.print(f"  [green]✓[/] {escape(_short(line))}", highlight=False)
        elif step.kind == "error":
            console.print(f"  [red]✗[/] {escape(_short(step.text))}", highlight=False)

    return show


def _args(text: str) -> str:
    return "" if text.startswith("{'spec'") else _short(text)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
