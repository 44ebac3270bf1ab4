"""A chat about one pipeline, in process: refinement, undo, reset, cancel, the commands."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from rich.console import Console

from agent.chat.commands import Commands
from agent.chat.conversation import Conversation
from agent.chat.session import Chat, Transcript
from agent.orchestrator.agent import Step
from agent.orchestrator.tools import MAX_CALLS_PER_TOOL, TO_MODEL
from agent.planner import plan
from connectors.spec import load_spec
from connectors.spec.io import to_plain
from tests.agent.fake_openai import serving

ROOT = Path(__file__).resolve().parents[2]
FIRST = "Every day at 06:00 load data/orders.csv into table orders, upsert on order_id"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("make it hourly", {"schedule": "@hourly"}),
        ("append instead", {"load": {"table": "orders"}}),  # append is the default
        ("load it into analytics.orders2", {"table": "analytics.orders2"}),
        ("target warehouse", {"target": "warehouse"}),
        ("call it shop_orders", {"pipeline": "shop_orders", "name": "shop_orders"}),
        ("load data/other.csv", {"source": {"kind": "csv", "path": "data/other.csv"}}),
    ],
)
def test_a_change_keeps_what_it_does_not_mention(change: str, expected: dict[str, object]) -> None:
    base = plan(FIRST + ", drop rows without customer_id")
    changed = plan(change, base)
    assert changed.questions == []
    assert changed.spec is not None
    spec = to_plain(changed.spec)
    stream = spec["streams"][0]
    flat = {**spec, **stream, **{"table": stream["load"]["table"]}}
    for key, value in expected.items():
        assert flat[key] == value
    assert stream["transform"]["required"] == ["customer_id"]  # untouched by the change
    if "schedule" not in expected:
        assert spec["schedule"] == "0 6 * * *"


def test_changes_add_cleaning_rules_to_the_earlier_ones() -> None:
    base = plan(FIRST + ", drop rows without customer_id")
    changed = plan("also drop rows without amount and keep only rows where status is paid", base)
    assert changed.spec is not None
    transform = to_plain(changed.spec)["streams"][0]["transform"]
    assert transform["required"] == ["customer_id", "amount"]
    assert transform["filter"] == {"column": "status", "op": "=", "value": "paid"}


def test_an_unclear_change_asks_and_changes_nothing() -> None:
    base = plan(FIRST)
    changed = plan("hourly or weekly", base)
    assert changed.spec is None
    assert changed.questions and "When should it run" in changed.questions[0]


@pytest.fixture
def chat(tmp_path: Path) -> Conversation:
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "data")
    return Conversation(tmp_path, tmp_path, "offline")


def _send(conversation: Conversation, text: str) -> list[Step]:
    steps: list[Step] = []
    conversation.send(text, lambda _: None, steps.append)
    return steps


def test_a_conversation_refines_then_undoes(chat: Conversation) -> None:
    _send(chat, FIRST)
    assert chat.checked is not None and chat.checked.spec.schedule == "0 6 * * *"
    steps = _send(chat, "make it hourly, and drop rows without customer_id")
    assert [s.name for s in steps if s.kind == "call"] == [
        "profile_source",
        "infer_schema",
        "validate_spec",
        "render_dag",
        "dry_run",
    ]  # no save: saving is the user's act
    assert chat.checked.spec.schedule == "@hourly"
    assert chat.dry_run is not None
    assert chat.dry_run.summary["streams"][0]["rows_rejected"] == 1  # the row without customer
    chat.undo()
    assert chat.checked.spec.schedule == "0 6 * * *"
    chat.reset()
    assert chat.checked is None and chat.turns == []


def test_a_question_leaves_the_pipeline_as_it_was(chat: Conversation) -> None:
    _send(chat, FIRST)
    before = chat.checked
    steps = _send(chat, "hourly or weekly")
    assert [s.kind for s in steps] == ["reply"]
    assert chat.checked is before


def test_ctrl_c_during_a_turn_leaves_the_conversation_as_it_was(chat: Conversation) -> None:
    _send(chat, FIRST)

    def interrupt(step: Step) -> None:
        if step.name == "render_dag" and step.kind == "call":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        chat.send("make it hourly", lambda _: None, interrupt)
    assert len(chat.turns) == 1
    assert chat.checked is not None and chat.checked.spec.schedule == "0 6 * * *"
    _send(chat, "make it weekly")  # the session goes on
    assert chat.checked.spec.schedule == "@weekly"


def test_save_writes_the_checked_files_and_asks_before_overwriting(chat: Conversation) -> None:
    output = io.StringIO()
    notes: list[str] = []
    commands = Commands(chat, Console(file=output, width=120), notes.append)
    commands.run("/save")
    assert "no pipeline yet" in output.getvalue()
    _send(chat, FIRST)
    commands.run("/save")
    spec_path = chat.project_dir / "pipelines" / "orders.yaml"
    assert load_spec(spec_path).schedule == "0 6 * * *"
    assert (chat.project_dir / "dags" / "orders.py").read_text() == chat.checked.dag_text
    _send(chat, "make it hourly")
    commands.ask = lambda question: False
    commands.run("/save")
    assert load_spec(spec_path).schedule == "0 6 * * *"  # refused: unchanged
    asked: list[str] = []
    commands.ask = lambda question: asked.append(question) or True
    commands.run("/diff")
    assert "+schedule: '@hourly'" in output.getvalue()
    commands.run("/save")
    assert asked and "overwrite" in asked[0]
    assert load_spec(spec_path).schedule == "@hourly"
    commands.run("/diff")
    assert "nothing to save" in output.getvalue()


def test_commands_show_run_model_and_unknown(chat: Conversation) -> None:
    output = io.StringIO()
    commands = Commands(chat, Console(file=output, width=200), lambda _: None)
    _send(chat, FIRST)
    for line in ("/show", "/show dag", "/show profile", "/dry-run 5", "/run", "/model", "/nope"):
        commands.run(line)
    text = output.getvalue()
    assert "mode: upsert" in text  # the spec as YAML
    assert "airflow_tasks.run(" in text  # the DAG
    assert "OrderID" in text  # the profile names the source's columns
    assert "dry run on a sample" in text
    assert "embedded DuckDB" in text  # /run loaded into the project's own DuckDB file
    assert (chat.project_dir / ".dagsmith" / "warehouse.duckdb").is_file()
    assert "model: offline" in text
    assert "unknown command /nope" in text
    commands.run("/model nonsense")
    assert "use 'offline' or 'provider:model'" in output.getvalue()
    assert chat.model_name == "offline"


def test_a_hosted_model_streams_its_reply(
    chat: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The openai: path, against the local OpenAI-compatible stand-in, streaming."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    with serving() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        chat.use_model("openai:gpt-4o-mini")
        tokens: list[str] = []
        turn = chat.send(FIRST, tokens.append, lambda _: None)
    assert all(json.loads(body)["stream"] for body in server.bodies)
    assert len(tokens) > 5  # the reply arrived word by word
    assert "".join(tokens).endswith(turn.reply)
    assert chat.checked is not None and chat.checked.spec.schedule == "0 6 * * *"
    sent = [json.loads(body)["messages"] for body in server.bodies]
    assert not any(m.get("name") == "save_pipeline" for ms in sent for m in ms)


@pytest.mark.parametrize("answer", [True, False])
def test_a_destructive_change_asks_for_the_users_word(chat: Conversation, answer: bool) -> None:
    output = io.StringIO()
    session = Chat(chat, Console(file=output, width=200))
    session.handle(FIRST)
    session.handle("/run")  # the table now exists in the embedded DuckDB target
    asked: list[str] = []
    session.commands.ask = lambda question: asked.append(question) or answer
    session.handle("overwrite it: replace the table on every run")
    shown = output.getvalue()
    assert "replace mode would overwrite the existing table(s) orders" in shown
    assert "To go on: answer yes when the chat asks to allow it, or ask for append" in shown
    assert "ask the user" not in shown and "--yes" not in shown and "agent:" not in shown
    assert asked == ["Allow destructive changes for this session?"]
    assert chat.checked is not None
    assert chat.checked.spec.streams[0].load.mode == ("replace" if answer else "upsert")
    assert len(chat.turns) == 2  # the refused turn was replaced by its rerun, or stays


def test_the_transcript_masks_passwords_in_urls(tmp_path: Path) -> None:
    transcript = Transcript(tmp_path, "offline")
    transcript.write("**you:** load postgresql://admin:hunter2@db.internal/shop into orders")
    written = transcript.path.read_text(encoding="utf-8")
    assert "hunter2" not in written
    assert "postgresql://admin:***@db.internal/shop" in written


def test_a_change_that_fails_its_dry_run_is_shown_and_not_applied(chat: Conversation) -> None:
    output = io.StringIO()
    shown = Chat(chat, Console(file=output, width=200))
    shown.turn(FIRST)
    before = chat.checked
    assert before is not None
    # The planner checks names against the profile, so the failure is one only the data shows.
    shown.turn("cast note to bigint, fail if more than 1 rows are rejected")
    text = output.getvalue()
    assert "✗ not applied: dry_run failed: the dry run failed for orders" in text
    assert "max_rejects is 1" in text
    assert "the pipeline stays as it was" in text
    assert chat.checked is before and len(chat.turns) == 1
    steps = _send(chat, "make it hourly")  # the failed change is not part of what follows
    assert [s.kind for s in steps if s.name == "dry_run"] == ["call", "result"]
    assert chat.checked is not None and chat.checked.spec.streams[0].load.keys == ["order_id"]
    assert chat.checked.spec.schedule == "@hourly"


REFINEMENTS = (
    "make it hourly",
    "also drop rows without customer_id",
    "make it weekly",
    "also drop rows without amount",
    "make it daily",
    "keep only rows where status is paid",
    "call it shop_orders",
    "make it hourly",
    "load it into analytics.orders2",
    "make it daily at 05:00",
)


def test_every_message_of_a_long_chat_has_the_tools_whole_budget(chat: Conversation) -> None:
    output = io.StringIO()
    session = Chat(chat, Console(file=output, width=200))
    for text in (FIRST, *REFINEMENTS):
        session.handle(text)
    shown = output.getvalue()
    assert "too often" not in shown and "not applied" not in shown
    assert len(chat.turns) == 1 + len(REFINEMENTS)
    assert all(t.artifact("dry_run") is not None for t in chat.turns)
    assert chat.checked is not None
    spec = chat.checked.spec
    assert (spec.pipeline, spec.schedule) == ("shop_orders", "0 5 * * *")
    stream = spec.streams[0]
    assert stream.load.table == "analytics.orders2" and stream.load.keys == ["order_id"]
    assert stream.transform.required == ["customer_id", "amount"]
    # The description says what the pipeline does now, not what each message asked.
    assert chat.turns[0].artifact("validate_spec").description == FIRST
    assert spec.description == (
        "data/orders.csv -> analytics.orders2 (upsert on order_id), daily at 05:00; keeps rows "
        "where status = paid; drops rows without customer_id, amount."
    )


class Looping(BaseChatModel):
    """A model stuck on one tool: it profiles the source again on every call."""

    @property
    def _llm_type(self) -> str:
        return "looping"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Looping:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        call = {"name": "profile_source", "args": {"source": "data/orders.csv"}}
        again = AIMessage("", tool_calls=[{**call, "id": f"c{len(messages)}"}])
        return ChatResult(generations=[ChatGeneration(message=again)])


def test_a_loop_within_one_message_still_stops(chat: Conversation) -> None:
    _send(chat, FIRST)
    chat.model = Looping()
    looped = chat.send("make it hourly", lambda _: None, lambda _: None)
    answers = [s for s in looped.steps if s.name == "profile_source" and s.kind != "call"]
    assert [s.kind for s in answers[: MAX_CALLS_PER_TOOL + 1]] == [
        *["result"] * MAX_CALLS_PER_TOOL,
        "error",
    ]
    assert "profile_source was called too often" in answers[-1].text
    assert "agent:" not in answers[-1].text  # what the model is told to do is not shown
    told = [m.text for m in looped.messages if isinstance(m, ToolMessage)][-1]
    assert f"{TO_MODEL}stop calling tools" in told  # the model is
    assert chat.undo() is looped
    chat.use_model("offline")
    _send(chat, "make it hourly")  # the next message has the whole budget again
    assert chat.checked is not None and chat.checked.spec.schedule == "@hourly"
