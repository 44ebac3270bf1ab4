"""`dagsmith chat` in a real pseudo-terminal: a whole session as a user types it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pexpect
import pytest

from connectors.spec import load_spec
from tests.conftest import Terminal
from tests.test_cli import ROOT

FIRST = "Every day at 06:00 load data/orders.csv into table orders, upsert on order_id"
UP = "\x1b[A"
PROMPT = "›"


@pytest.fixture
def chat(
    terminal: Terminal, project: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], pexpect.spawn]:
    """Each call: a new `dagsmith chat` in a pseudo-terminal in `project`, at its prompt."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    env = {
        "TERM": "xterm",
        "NO_COLOR": "1",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # no cursor-position queries for pexpect to answer
        "DAGSMITH_MODEL": "offline",
    }

    def spawn() -> pexpect.spawn:
        child = terminal("chat", cwd=project, env=env)
        child.setwinsize(50, 200)
        child.expect_exact("describe a pipeline")
        child.expect_exact(PROMPT)
        return child

    return spawn


def _say(child: pexpect.spawn, line: str, *expected: str) -> None:
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)
    child.expect_exact(PROMPT)  # keys typed before the prompt is back would go astray


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "data")
    return tmp_path


def test_a_whole_session_in_a_terminal(project: Path, chat: Callable[[], pexpect.spawn]) -> None:
    child = chat()
    first, second = FIRST.split(" into ")
    child.send(first + "\x1b\r")  # Esc Enter: a new line, not sent yet
    child.expect_exact("…")  # the continuation prompt
    _say(
        child,
        "into " + second,
        "→ profile_source",
        "the check passed",
        "Done.",
        "+schedule: 0 6 * * *",
    )
    _say(
        child, "make it hourly", "the check passed", "-schedule: 0 6 * * *", "+schedule: '@hourly'"
    )
    _say(child, "/diff", "+++ b/dags/orders.py", "+    schedule='@hourly',")
    _say(child, "/dry-run", "dry run on a sample", "orders: first rows")
    _say(child, "/save", "saved pipelines/orders.yaml and dags/orders.py")
    child.send("\x03")  # Ctrl-C at the prompt clears the line; the session stays
    child.expect_exact(PROMPT)
    child.sendline("make it weekly")
    child.expect_exact("→ render_dag")
    child.send("\x03")  # Ctrl-C while the DAG is checked stops that step
    child.expect_exact("cancelled")
    child.expect_exact(PROMPT)
    _say(child, "/show", "schedule: '@hourly'")  # the cancelled change did not land
    child.sendeof()  # Ctrl-D leaves
    child.expect("transcript: (\\S+\\.md)")
    transcript = Path(child.match.group(1))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert load_spec(project / "pipelines" / "orders.yaml").schedule == "@hourly"
    assert (project / "dags" / "orders.py").is_file()
    written = transcript.read_text(encoding="utf-8")
    assert "**you:** make it hourly" in written and "_cancelled_" in written
    assert "make it weekly" in (project / ".dagsmith" / "chat_history").read_text()


def test_history_and_completion_carry_over(chat: Callable[[], pexpect.spawn]) -> None:
    child = chat()
    _say(child, "/model", "model: offline")
    child.sendeof()
    child.expect(pexpect.EOF)
    child = chat()
    child.send(UP + "\r")  # the last line of the earlier session
    child.expect_exact("model: offline")
    child.expect_exact(PROMPT)
    child.send("/he")
    child.expect_exact("/help")  # offered as you type
    child.send("\t")  # Tab takes it
    child.expect_exact("/help")
    child.send("\r")
    child.expect_exact("list the commands")
    child.expect_exact(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
