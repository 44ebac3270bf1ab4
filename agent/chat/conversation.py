"""A chat about one pipeline: the turns so far, what each built, undo and reset.

Each turn sends the whole conversation to the agent (with no save tool: saving is the
user's act), and keeps the spec the agent last validated, the DAG it rendered and
checked, and the dry run. A turn cancelled by Ctrl-C, or whose change failed a check,
leaves the conversation as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage

from agent.orchestrator.agent import Step, choose_model, converse, model_name, steps_of
from agent.orchestrator.build import CheckFailure, check_failure
from agent.orchestrator.tools import CHAT_CONSENT, Session
from agent.workspace import Checked, DryRun
from connectors.spec import Pipeline

CHAT_CHECKS = ("validate_spec", "render_dag", "dry_run")
"""The checks a chat turn runs (saving is the user's `/save`)."""


@dataclass
class Turn:
    """One message of the user's and what the agent did about it."""

    request: str
    messages: list[BaseMessage] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    failure: CheckFailure | None = None
    """The check its change failed: such a turn is shown and not applied."""

    def artifact(self, tool: str) -> Any:
        """The artifact of the turn's last successful call of `tool`, or None."""
        found = [s.artifact for s in self.steps if s.kind == "result" and s.name == tool]
        return found[-1] if found else None

    @property
    def reply(self) -> str:
        """The agent's last words in this turn."""
        replies = [step.text for step in self.steps if step.kind == "reply"]
        return replies[-1] if replies else ""


@dataclass
class Conversation:
    """The chat's state: the model, the turns, and where files go."""

    project_dir: Path
    out_dir: Path
    model_name: str = ""
    """offline, provider:model, or empty for the default (see `choose_model`)."""
    consent: bool = False
    turns: list[Turn] = field(default_factory=list)
    model: BaseChatModel = field(init=False)
    session: Session = field(init=False)

    def __post_init__(self) -> None:
        self.model_name = model_name(self.model_name)
        self.model = choose_model(self.model_name)
        self.reset()

    def reset(self) -> None:
        """Forget every turn, and what the tools learnt (profiles, checks)."""
        self.turns = []
        self.session = Session(
            "", self.project_dir, self.out_dir, consent=self.consent, consent_how=CHAT_CONSENT
        )

    def use_model(self, name: str) -> None:
        """Switch the chat model for the next turns (the conversation stays)."""
        self.model = choose_model(name)
        self.model_name = name

    def send(
        self, text: str, on_token: Callable[[str], None], on_step: Callable[[Step], None]
    ) -> Turn:
        """Run one turn; it joins the conversation only if it ran to the end and its last
        check passed (a failed validation, DAG check or dry run leaves the pipeline as it
        was: the turn is returned with its `failure`, to show)."""
        turn = Turn(text)
        # Each message has the tools' whole budget: it guards against a loop within a turn,
        # not against a long conversation.
        self.session.new_turn()
        # The guard allows what any of the user's messages named, as in one long request.
        self.session.request = "\n".join([*(t.request for t in self.turns), text])
        history = [m for t in self.turns for m in t.messages]
        turn.messages.append(HumanMessage(text))
        for kind, item in converse(self.model, self.session, [*history, *turn.messages], True):
            if kind == "token":
                on_token(item)
                continue
            turn.messages.append(item)
            for step in steps_of(item):
                turn.steps.append(step)
                on_step(step)
        turn.failure = None if self.session.refused else check_failure(turn.steps, CHAT_CHECKS)
        if turn.failure is None:
            self.turns.append(turn)
        return turn

    def allow_destructive(self) -> None:
        """The user's word: replace existing tables and drop columns from now on."""
        self.consent = self.session.consent = True

    def undo(self) -> Turn | None:
        """Drop the last turn; returns it, or None when there is none."""
        return self.turns.pop() if self.turns else None

    @property
    def built(self) -> Turn | None:
        """The last turn whose pipeline passed the DAG check and the dry run (what `/save`
        would write)."""
        return next(
            (t for t in reversed(self.turns) if t.artifact("render_dag") and t.artifact("dry_run")),
            None,
        )

    @property
    def checked(self) -> Checked | None:
        """The spec and DAG as `/save` writes them, checked."""
        found: Checked | None = self.built.artifact("render_dag") if self.built else None
        return found

    @property
    def spec(self) -> Pipeline | None:
        """The checked spec with paths as the user wrote them (relative to the project)."""
        found: Pipeline | None = self.built.artifact("validate_spec") if self.built else None
        return found

    @property
    def dry_run(self) -> DryRun | None:
        """The dry run of the checked spec, if the agent got that far."""
        found: DryRun | None = self.built.artifact("dry_run") if self.built else None
        return found
