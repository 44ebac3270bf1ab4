"""The chat's slash commands: each a short method over the conversation and the workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent import env_file, workspace
from agent.chat.conversation import Conversation
from agent.chat.view import on_disk, save_diff, show_diff, show_dry_run, show_python, show_yaml
from agent.orchestrator.profile_view import print_profile
from agent.workspace import Checked
from connectors.errors import DagsmithError, SpecError

COMMANDS = {
    "show": "show the spec (default), or: /show dag | profile | dry-run",
    "diff": "what /save would change on disk, as a coloured diff",
    "dry-run": "run on the first rows of the source into a scratch DuckDB: /dry-run [ROWS]",
    "run": "run the pipeline now, into its target",
    "save": "write pipelines/<name>.yaml and dags/<name>.py",
    "pr": "save, commit on a new branch and open a pull request: /pr [BRANCH]",
    "undo": "forget your last message and what it changed",
    "model": "show the model, or switch to another: /model offline | openai:gpt-4o-mini",
    "reset": "start over: forget the whole conversation",
    "help": "list the commands",
    "quit": "leave the chat (Ctrl-D does too)",
}


class Quit(Exception):
    """The user asked to leave."""


class Commands:
    """Runs `/name args` lines against a conversation."""

    def __init__(
        self, conversation: Conversation, console: Console, note: Callable[[str], None]
    ) -> None:
        self.conversation = conversation
        self.console = console
        self.note = note
        self.ask: Callable[[str], bool] = lambda q: (
            console.input(f"{q} [y/N] ").strip() in {"y", "yes"}
        )

    def run(self, line: str) -> None:
        """Run one command line; an expected error is shown, never raised."""
        name, _, args = line[1:].partition(" ")
        if name in {"exit", "q"}:
            name = "quit"
        handler = getattr(self, "do_" + name.replace("-", "_"), None)
        if name not in COMMANDS or handler is None:
            self._say(f"[red]unknown command /{escape(name)}[/]: /help lists them")
            return
        try:
            handler(args.strip())
        except DagsmithError as exc:
            self._say(f"[red]error:[/] {escape(exc.message)}")
            if exc.hint:
                self._say(f"[yellow]hint:[/] {escape(exc.hint)}")

    def _say(self, markup: str) -> None:
        self.console.print(markup, highlight=False)
        self.note(markup)

    def _checked(self) -> Checked:
        checked = self.conversation.checked
        if checked is None:
            raise SpecError("no pipeline yet: describe one first")
        return checked

    def do_help(self, args: str) -> None:
        """List the commands."""
        table = Table(show_header=False, box=None)
        for name, text in COMMANDS.items():
            table.add_row(f"/{name}", text)
        self.console.print(table)
        self.console.print("Enter sends; Esc Enter starts a new line; Ctrl-C stops a step.")

    def do_quit(self, args: str) -> None:
        """Leave."""
        raise Quit

    def do_show(self, args: str) -> None:
        """The spec as YAML, the DAG as Python, the source profile, or the dry run."""
        checked = self._checked()
        what = args or "spec"
        if what == "spec":
            show_yaml(self.console, checked.spec_text)
        elif what == "dag":
            show_python(self.console, checked.dag_text)
        elif what == "profile":
            built = self.conversation.built
            found = built.artifact("profile_source") if built else None
            if found is None:
                raise SpecError("this pipeline has no profile yet")
            print_profile(self.console, found)
        elif what in {"dry-run", "dry_run"}:
            self.do_dry_run("")
        else:
            raise SpecError(f"/show {what}: show spec, dag, profile or dry-run")

    def do_diff(self, args: str) -> None:
        """What /save would write, against the files on disk."""
        text = save_diff(self._checked())
        if text:
            show_diff(self.console, text)
        else:
            self._say("nothing to save: the files on disk match")

    def do_dry_run(self, args: str) -> None:
        """The latest dry run, or a new one on more rows."""
        spec = self.conversation.spec
        if spec is None:
            raise SpecError("no pipeline yet: describe one first")
        result = self.conversation.dry_run
        if args or result is None:
            rows = int(args) if args.isdigit() else workspace.DRY_RUN_ROWS
            result = workspace.dry_run(spec, self.conversation.project_dir, min(rows, 100_000))
        show_dry_run(self.console, result)
        streams = result.summary["streams"]
        self.note(
            ", ".join(f"{s['stream']}: {s['status']}, loaded {s['rows_loaded']}" for s in streams)
        )

    def do_run(self, args: str) -> None:
        """Run the pipeline now into its target, as `dagsmith run` would."""
        from agent.cli.console import print_summary, progress_bars
        from connectors.runner import run_pipeline

        spec = self.conversation.spec
        if spec is None:
            raise SpecError("no pipeline yet: describe one first")
        project = self.conversation.project_dir
        with progress_bars(self.console, enabled=True) as progress:
            summary = run_pipeline(spec, base_dir=project, project_dir=project, progress=progress)
        print_summary(self.console, summary)
        self.note(f"run {summary.run_id}: {'ok' if summary.ok else 'failed'}")

    def do_save(self, args: str) -> list[Path]:
        """Write the spec and the DAG; ask before overwriting a different spec."""
        checked = self._checked()
        old = on_disk(checked.spec_path)
        overwrite = self.conversation.consent
        if old is not None and old != checked.spec_text and not overwrite:
            overwrite = self.ask(f"{checked.spec_path} holds another spec: overwrite it?")
            if not overwrite:
                raise SpecError("not saved", hint="/diff shows what would change")
        paths = workspace.save(checked, overwrite=overwrite)
        if (recorder := self.conversation.session.recorder) is not None:
            recorder.saved(paths, checked.spec)
        self._say("[green]✓[/] saved " + " and ".join(escape(str(p)) for p in paths))
        for conn_id, saved in env_file.save_given(self.conversation.project_dir, checked.spec):
            self._say(f"[green]✓[/] connection {conn_id} saved in {escape(str(saved.path))}")
        return paths

    def do_pr(self, args: str) -> None:
        """Save, then branch, commit, and open a pull request (or say how to)."""
        from agent.gitflow.pr import open_pull_request

        spec_path = self.do_save("")[0]
        project = self.conversation.project_dir
        found = open_pull_request(
            [spec_path],
            project_dir=project,
            dags_dir=self.conversation.out_dir / workspace.DAGS_DIR,
            branch=args or None,
            echo=lambda text: self._say(escape(text)),
        )
        self._say(f"[green]✓[/] branch {escape(found.branch)}, body {escape(str(found.body_path))}")

    def do_undo(self, args: str) -> None:
        """Forget the last message."""
        dropped = self.conversation.undo()
        if dropped is None:
            self._say("nothing to undo")
            return
        checked = self.conversation.checked
        now = f"pipeline {checked.spec.pipeline} as before" if checked else "no pipeline"
        self._say(f"forgot {escape(repr(dropped.request))}: {now}")

    def do_model(self, args: str) -> None:
        """Show the model, or switch."""
        if args:
            self.conversation.use_model(args)
        self._say(f"model: {escape(self.conversation.model_name)}")

    def do_reset(self, args: str) -> None:
        """Forget everything."""
        self.conversation.reset()
        self._say("the conversation is empty: describe a pipeline")
