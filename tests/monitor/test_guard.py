"""A model that asks for a change of where data comes from gets a refusal, never a checked
change: the model's replies here are HAND-WRITTEN (no model, hosted or local, chose them)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable

from agent.monitor.agent import run_monitor
from agent.monitor.evidence import locate, spec_files
from agent.monitor.tools import MonitorSession
from tests.monitor.conftest import GOOD, HEADER, Project


class Scripted(BaseChatModel):
    """A chat model that answers with the next of its hand-written replies."""

    replies: list[AIMessage]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.replies.pop(0))])


def calls(*changes: dict[str, Any]) -> Iterator[AIMessage]:
    for number, change in enumerate(changes):
        args = {
            "finding": "bad_values",
            "what_happened": "scripted",
            "evidence": [],
            "summary": "scripted",
            "changes": change,
        }
        call = {"name": "propose_change", "args": args, "id": f"call_{number}"}
        yield AIMessage("", tool_calls=[call])


def test_a_change_of_source_or_code_is_refused(project: Project) -> None:
    before = project.write_spec()
    project.data(GOOD)
    project.run()
    project.data(HEADER + "3,N/A,2026-12-02T00:00:00Z\n")
    run = project.run()["run_id"]
    session = MonitorSession(locate(run, spec_files([], project.folder), project.folder))
    replies = [
        *calls(
            {"source.path": "/etc/passwd"},
            {"transform.steps": [{"udf": "os:system"}]},
            {"source.null_values": ["", "N/A"]},
        ),
        AIMessage("done"),
    ]

    messages = run_monitor(Scripted(replies=replies), session)

    answers = [a.proposed for a in session.answers]
    assert [p.checked for p in answers if p] == [False, False, True]
    assert answers[0] and answers[0].why == "may not change source.path"
    assert answers[1] and answers[1].why == "may not change transform.steps"
    errors = [m.text for m in messages if getattr(m, "status", None) == "error"]
    assert len(errors) == 2 and all("failed its check" in e for e in errors)
    assert project.spec_path.read_text() == before
