"""`dagsmith build`: from a sentence to a saved, checked pipeline, showing each step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.exceptions import ModelError as LangChainModelError
from rich.console import Console
from rich.markup import escape

from agent.orchestrator.agent import Outcome, Step, choose_model, run_agent
from agent.orchestrator.tools import HINT, NOTE, TOO_OFTEN, Session
from connectors.errors import TransientError

SHOWN_CHARS = 160
CHECKS = ("validate_spec", "render_dag", "dry_run", "save_pipeline")
"""The steps that check a spec; a build whose last check failed saves nothing."""
CHANGE = {
    "validate_spec": "fix the field the error names (`dagsmith schema` lists every field), "
    "or say it differently in the description",
    "render_dag": "fix the spec values the DAG check names, or report the problem: the "
    "templates should render any valid spec",
    "dry_run": "change the rule or the source the error names so it fits the data, or say "
    "it differently in the description",
    "save_pipeline": "run the build again; pass --yes to overwrite an existing pipeline",
}
"""What to change after a failed check, when its error carries no hint of its own."""
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
    outcome.refused = list(session.refused)
    outcome.model_calls = session.model_calls
    return outcome


@dataclass(frozen=True)
class CheckFailure:
    """The check that stopped a build: which step, why, and what to change."""

    step: str
    why: str
    change: str


def failed_check(outcome: Outcome) -> CheckFailure | None:
    """The check that stopped an unsaved build; None when it saved, or stopped to ask.

    The last check the agent ran decides: a model that fixed its spec after a failure and
    then stopped did not fail a check, it stopped (and its reply says why).
    """
    if saved_paths(outcome) is not None or outcome.refused:
        return None
    if failure := check_failure(outcome.steps):
        return failure
    if outcome.model_calls >= outcome.budget:
        called = Counter(step.name for step in outcome.steps if step.kind == "call")
        most = ", ".join(f"{name} x{count}" for name, count in called.most_common(3))
        return CheckFailure(
            "budget",
            f"the model used its budget of {outcome.budget} calls ({most}) without a checked spec",
            "describe the pipeline more precisely, or try another model (--model offline)",
        )
    return None


def check_failure(steps: Sequence[Step], names: Sequence[str] = CHECKS) -> CheckFailure | None:
    """The failure of the last check (of the tools `names`) in `steps`, or None when it
    passed or none ran."""
    checks = [s for s in steps if s.kind in ("result", "error") and s.name in names]
    if not checks or checks[-1].kind != "error":
        return None
    # A tool refusing another call says nothing of the spec: name the last real failure.
    real = [s for s in checks if s.kind == "error" and TOO_OFTEN not in s.text]
    last = (real or checks)[-1]
    attempts = sum(s.name == last.name and TOO_OFTEN not in s.text for s in checks)
    why, _, hint = last.text.removeprefix("error: ").partition(HINT)
    if attempts > 1:
        why = f"{why.strip()} (after {attempts} attempts)"
    return CheckFailure(last.name, why.strip(), hint.strip() or CHANGE[last.name])


def saved_paths(outcome: Outcome) -> list[Path] | None:
    """The spec and DAG that save_pipeline wrote, or None when the build stopped before."""
    found: Any = outcome.artifact("save_pipeline")
    return list(found) if found else None


def printer(console: Console) -> Callable[[Step], None]:
    """Show agent steps as one line each (calls, results, errors), and the notes of a
    tool's answer meant for the user."""

    def show(step: Step) -> None:
        if step.kind == "call":
            console.print(f"[bold]→ {step.name}[/] {escape(_args(step.text))}", highlight=False)
        elif step.kind == "result":
            lines = step.text.splitlines() or [""]
            line = lines[min(_HEADLINE.get(step.name, 0), len(lines) - 1)]
            console.print(f"  [green]✓[/] {escape(_short(line))}", highlight=False)
            for note in (n.removeprefix(NOTE) for n in lines if n.startswith(NOTE)):
                console.print(f"  [yellow]![/] {escape(note)}", highlight=False)
        elif step.kind == "error":
            # The hint comes once, with the failure or the reply that ends the turn.
            text = step.text.removeprefix("error: ").partition(HINT)[0]
            console.print(f"  [red]✗[/] {escape(_short(text))}", highlight=False)

    return show


def _args(text: str) -> str:
    return "" if text.startswith("{'spec'") else _short(text)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
