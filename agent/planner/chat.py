"""The offline planner as a LangChain chat model: it emits the tool calls a model would.

Given the conversation so far, it plans the last user message (as a change to what the
earlier messages planned, in a chat) and calls the agent's tools in a fixed order:
profile_source, infer_schema, validate_spec, render_dag, dry_run, save_pipeline (those
it was given). A question from the planner, or a tool error, ends the turn with a reply
and no tool call: it never retries blindly and never guesses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from agent.planner import Plan, plan
from connectors.spec.io import to_plain

STEPS = (
    "profile_source",
    "infer_schema",
    "validate_spec",
    "render_dag",
    "dry_run",
    "save_pipeline",
)


class OfflineChatModel(BaseChatModel):
    """A deterministic chat model that drives the agent's tools with the offline planner."""

    tools: tuple[str, ...] = STEPS
    """The tools it was given, by name: it calls those of STEPS, in order."""

    @property
    def _llm_type(self) -> str:
        return "dagsmith-offline"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """The model with the names of the tools it may call (it knows what they take)."""
        names = tuple(t.name if isinstance(t, BaseTool) else str(t) for t in tools)
        return self.model_copy(update={"tools": names})

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        steps = [name for name in STEPS if name in self.tools]
        return ChatResult(generations=[ChatGeneration(message=next_message(messages, steps))])


def next_message(messages: Sequence[BaseMessage], steps: Sequence[str] = STEPS) -> AIMessage:
    """The reply to a conversation: the next tool call, a question, or the outcome."""
    start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    planned = plan(messages[start].text, earlier_plan(messages[:start]))
    if planned.spec is None:
        return AIMessage(content="\n".join(planned.questions))
    done = [m for m in messages[start:] if isinstance(m, ToolMessage)]
    if done and done[-1].status == "error":
        return AIMessage(content=f"I cannot go on: {done[-1].text}")
    if len(done) == len(steps):
        return AIMessage(content=f"Done. {done[-1].text}.")
    name = steps[len(done)]
    args = _arguments(name, planned, done)
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{name}"}])


def earlier_plan(messages: Sequence[BaseMessage]) -> Plan | None:
    """What the user's earlier messages planned, each a change to the one before.

    A message that only raised questions changes nothing.
    """
    found: Plan | None = None
    for message in messages:
        if isinstance(message, HumanMessage):
            planned = plan(message.text, found)
            found = planned if planned.spec is not None else found
    return found


def _arguments(name: str, planned: Plan, done: list[ToolMessage]) -> dict[str, Any]:
    assert planned.spec is not None
    spec = to_plain(planned.spec)
    transform = spec["streams"][0].get("transform", {})
    if name == "profile_source":
        return dict(planned.source_args)
    if name == "infer_schema":
        return {**planned.source_args, "rename": transform.get("rename", {})}
    schema = next(m for m in done if m.tool_call_id == "call_infer_schema")
    inferred = json.loads(schema.text.splitlines()[-1])
    keep = set(transform.get("select") or inferred) - set(transform.get("drop", []))
    types = {column: kind for column, kind in inferred.items() if column in keep}
    spec["streams"][0]["transform"] = {
        **transform,
        "types": {**types, **transform.get("types", {})},
    }
    return {"spec": spec}
