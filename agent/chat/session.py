"""`dagsmith chat`: a terminal session that builds one pipeline by conversation.

The user describes a pipeline, then refines it ("make it hourly"); each turn the agent
profiles, validates, renders, checks and dry-runs, and the chat shows the spec's change
as a coloured diff. Slash commands show, save, run or ship the result. Ctrl-C stops the
step in progress (the conversation stays as it was); Ctrl-D leaves. Input history lives
in `.dagsmith/chat_history`, and each session's transcript in `.dagsmith/chat/`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import (
    CompleteEvent,
    Completer,
    Completion,
    PathCompleter,
    WordCompleter,
)
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from rich.console import Console
from rich.markup import escape

from agent.chat.commands import COMMANDS, Commands, Quit
from agent.chat.conversation import Conversation
from agent.chat.view import change_diff, show_diff
from agent.orchestrator.agent import Step
from agent.orchestrator.build import CheckFailure, printer
from agent.orchestrator.profile_view import print_profile
from agent.planner import mask_logins
from connectors.errors import DagsmithError
from connectors.masking import mask
from connectors.profiling import Profile

STATE_DIR = ".dagsmith"


class Transcript:
    """The session written down as it happens (Markdown), with URL passwords and every secret
    a connection of this process holds (in any encoding) masked."""

    def __init__(self, folder: Path, model: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.path = folder / f"{stamp}.md"
        self.write(f"# dagsmith chat, {stamp} UTC, model {model}\n")

    def write(self, text: str) -> None:
        """Append a line (a crash keeps what came before)."""
        with self.path.open("a", encoding="utf-8") as file:
            file.write(mask(mask_logins(text)) + "\n")


class ChatCompleter(Completer):
    """Slash commands at the start of the line; file paths in the word being typed."""

    def __init__(self) -> None:
        self.commands = WordCompleter([f"/{name}" for name in COMMANDS], sentence=True)
        self.paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        """Commands for `/...` as the first word, else paths for the current word."""
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            yield from self.commands.get_completions(document, complete_event)
            return
        word = document.get_word_before_cursor(WORD=True)
        if "/" in word or word.startswith("."):
            yield from self.paths.get_completions(Document(word, len(word)), complete_event)


def _keys() -> KeyBindings:
    """Enter sends; Esc then Enter (or Alt-Enter) starts a new line."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _send(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    @bindings.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return bindings


class Chat:
    """The loop: read a line, run a command or a turn, show what happened."""

    def __init__(self, conversation: Conversation, console: Console) -> None:
        self.conversation = conversation
        self.console = console
        state = conversation.project_dir / STATE_DIR
        self.transcript = Transcript(state / "chat", conversation.model_name)
        self.commands = Commands(conversation, console, self.transcript.write)
        self.read = self._reader(state / "chat_history")
        self._streamed = False
        self._show_step = printer(console)
        self._profiles_shown: set[int] = set()

    def _reader(self, history: Path) -> Callable[[], str]:
        if not sys.stdin.isatty():
            return self._read_plain
        history.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)),
            completer=ChatCompleter(),
            key_bindings=_keys(),
            multiline=True,
            prompt_continuation="… ",
            bottom_toolbar=self._toolbar,
        )
        return lambda: session.prompt("› ")

    def _read_plain(self) -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    def _toolbar(self) -> str:
        checked = self.conversation.checked
        pipeline = f"pipeline {checked.spec.pipeline}" if checked else "no pipeline yet"
        keys = "Enter sends, Esc Enter new line · /help · Ctrl-D quits"
        return f" {self.conversation.model_name} · {pipeline} · {keys}"

    def loop(self) -> None:
        """Run until /quit or Ctrl-D."""
        self.console.print(
            "[bold]dagsmith chat[/]: describe a pipeline, then refine it. /help lists commands.",
            highlight=False,
        )
        while True:
            try:
                text = self.read().strip()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line
            except EOFError:
                break
            if not text:
                continue
            try:
                self.handle(text)
            except Quit:
                break
            except KeyboardInterrupt:
                self.console.print("[yellow]cancelled[/]: the conversation is as it was before")
                self.transcript.write("_cancelled_")
        self.console.print(f"transcript: {escape(str(self.transcript.path))}", highlight=False)

    def handle(self, text: str) -> None:
        """A slash command, or a message for the agent."""
        self.transcript.write(f"\n**you:** {text}")
        if text.startswith("/"):
            self.commands.run(text)
        else:
            self.turn(text)

    def turn(self, text: str) -> None:
        """Send a message; show the steps, the reply and what changed."""
        before = self.conversation.checked
        try:
            turn = self.conversation.send(text, self._token, self._step)
        except DagsmithError as exc:
            self.console.print(f"[red]error:[/] {escape(exc.message)}", highlight=False)
            self.transcript.write(f"error: {exc.message}")
            return
        if self._allowed(self.conversation.session.refused):
            self.conversation.undo()
            self.turn(text)  # again, now that destructive changes are allowed
            return
        if turn.failure is not None:
            self._not_applied(turn.failure)
            return
        after = self.conversation.checked
        if after is not None and after is not before:
            show_diff(self.console, change_diff(before, after))
            self.transcript.write(f"```diff\n{change_diff(before, after)}```")
        if turn.reply:
            self.transcript.write(f"**dagsmith:** {turn.reply}")

    def _not_applied(self, failure: CheckFailure) -> None:
        """Say which check the change failed and why; the pipeline stays as it was."""
        kept = "the pipeline stays as it was" if self.conversation.built else "nothing was built"
        self.console.print(
            f"[red]✗ not applied[/]: {failure.step} failed: {escape(failure.why)}\n"
            f"  what to change: {escape(failure.change)}\n  {kept} (/show)",
            highlight=False,
        )
        self.transcript.write(f"not applied: {failure.step} failed: {failure.why}")

    def _allowed(self, refused: list[str]) -> bool:
        """Ask for the user's word on the destructive changes the turn was refused."""
        if not refused or self.conversation.consent:
            return False
        for change in refused:
            self.console.print(f"[yellow]![/] {escape(change)}", highlight=False)
        allowed = self.commands.ask("Allow destructive changes for this session?")
        self.transcript.write(f"destructive changes {'allowed' if allowed else 'refused'}")
        if allowed:
            self.conversation.allow_destructive()
        return allowed

    def _token(self, text: str) -> None:
        self._streamed = True
        self.console.print(escape(text), end="", highlight=False)

    def _step(self, step: Step) -> None:
        if step.kind == "reply":
            if self._streamed:
                self.console.print()
            else:
                self.console.print(escape(step.text), highlight=False)
        else:
            self._show_step(step)
            first = step.text.splitlines()[0] if step.text else ""
            self.transcript.write(f"- {step.kind} {step.name}: {first}")
        if step.name == "profile_source" and step.kind == "result":
            self._show_profile(step.artifact)
        self._streamed = False

    def _show_profile(self, found: Profile) -> None:
        """A source's profile as a table, the first time the session sees it."""
        if id(found) not in self._profiles_shown:
            self._profiles_shown.add(id(found))
            print_profile(self.console, found)
