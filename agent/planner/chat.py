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
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from agent import env_file
from agent.dags.describe import pipeline_summary
from agent.orchestrator.tools import HINT, for_user
from agent.planner import Column, Facts, Plan, plan
from connectors.errors import SpecError
from connectors.profiling import Profile, draft
from connectors.profiling.draft import proposed_rule
from connectors.profiling.patterns import PII_HINTS
from connectors.spec.filter import filter_columns
from connectors.spec.io import to_plain
from connectors.spec.models import Transform
from connectors.spec.protect import action
from connectors.transforms.names import normalize_name

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
    """The reply to a conversation: the next tool call, a question, or the outcome.

    Each source is profiled before the request is planned for good, so that a value the
    request names ("only the lost shipments") is looked up in the profile's columns.
    """
    start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    profiles = profiled(messages)
    earlier, asked = _history(messages[:start], profiles)
    planned = _answered(messages[start].text, earlier, profiles, asked)
    if earlier is not None and planned.spec is not None:
        # A change's words would contradict the earlier ones ("daily" then "make it hourly"):
        # the description says what the pipeline does now.
        now = pipeline_summary(planned.spec)
        planned = replace(planned, spec=planned.spec.model_copy(update={"description": now}))
    done = [m for m in messages[start:] if isinstance(m, ToolMessage)]
    if done and done[-1].status == "error":
        return AIMessage(content=_stopped(done[-1].text))
    try:
        for conn_id, url in planned.connections.items():
            env_file.use_given(Path.cwd(), conn_id, url)
    except SpecError as exc:
        return AIMessage(content=f"I cannot go on: {exc}")
    calls = [(name, args) for name, args in _calls(planned, steps, done) if name in steps]
    if planned.spec is None:  # profile what was not profiled: a value may answer the question
        calls = [(name, args) for name, args in calls if label(args) not in profiles]
    if len(done) < len(calls):
        name, args = calls[len(done)]
        call_id = f"call_{name}_{len(done)}"
        return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])
    if planned.spec is None:
        return AIMessage(content="\n".join(planned.questions))
    return AIMessage(content=f"Done. {for_user(done[-1].text)}." if done else "Done.")


def _stopped(error: str) -> str:
    """The reply to a tool's error, for the user: what failed and what they can do (the
    answer's lines for the model stay with the model)."""
    why, _, hint = for_user(error).removeprefix("error: ").partition(HINT)
    return f"I cannot go on: {why.strip()}" + (f"\nTo go on: {hint.strip()}" if hint else "")


def profiled(messages: Sequence[BaseMessage]) -> dict[str, Facts]:
    """The columns of each source profiled so far, by the source's label."""
    asked = {
        call["id"]: call["args"]
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
        if call["name"] == "profile_source"
    }
    found: dict[str, Facts] = {}
    for message in messages:
        args = asked.get(message.tool_call_id) if isinstance(message, ToolMessage) else None
        if args and isinstance(message, ToolMessage) and isinstance(message.artifact, Profile):
            found[label(args)] = facts_of(message.artifact)
    return found


def label(args: dict[str, Any]) -> str:
    """How the planner names a source that profile_source was called with."""
    return str(args.get("source") or f"table {args.get('table')}")


def facts_of(found: Profile) -> Facts:
    """A profile's columns as the planner checks names and places values with them, and
    the protection proposed for those it flags as personal data."""
    return {
        (name := normalize_name(c.name, i)): Column(
            name,
            c.inferred.type,
            tuple(str(v) for v, _ in c.top if isinstance(v, str | int)),
            raw=c.name,
            protect=proposed_rule(c) if c.pii else "",
            pii=tuple(hint for hint in c.hints if hint in PII_HINTS),
            format=c.inferred.format,
            examples=tuple(str(v) for v in c.examples if isinstance(v, str | int)),
            readings={order: guess.written() for order, guess in c.inferred.readings.items()},
        )
        for i, c in enumerate(found.columns, start=1)
    }


def _history(
    messages: Sequence[BaseMessage], profiles: dict[str, Facts] | None
) -> tuple[Plan | None, str]:
    """What the user's earlier messages planned, each a change to the one before (one that
    only raised questions changes nothing), and the text of the request whose questions are
    still open (empty when the last one planned)."""
    found: Plan | None = None
    asked = ""
    for message in messages:
        if isinstance(message, HumanMessage):
            planned = _answered(message.text, found, profiles, asked)
            found = planned if planned.spec is not None else found
            asked = "" if planned.spec is not None else _joined(asked, message.text)
    return found, asked


def _answered(text: str, base: Plan | None, profiles: dict[str, Facts] | None, asked: str) -> Plan:
    """A message planned as a change to `base`; one that plans nothing by itself after a
    request that raised questions is read as their answer ("day first"): with that request."""
    planned = plan(text, base, profiles)
    if planned.spec is None and asked:
        return plan(_joined(asked, text), base, profiles)
    return planned


def _joined(asked: str, text: str) -> str:
    return f"{asked.rstrip('. ')}. {text}" if asked else text


def _calls(
    planned: Plan, steps: Sequence[str], done: list[ToolMessage]
) -> list[tuple[str, dict[str, Any]]]:
    """Every tool call of the turn, in order; those after the profiles need the spec."""
    calls: list[tuple[str, dict[str, Any]]] = [("profile_source", s) for s in planned.sources]
    if planned.spec is None:
        return calls
    spec = to_plain(planned.spec)
    streams = spec["streams"]
    for source, stream in zip(planned.sources, streams, strict=False):
        rename = stream.get("transform", {}).get("rename", {})
        calls.append(("infer_schema", {**source, "rename": rename}))
    found = [m.artifact for m in done if isinstance(m.artifact, Profile)]
    for stream, profile in zip(streams, found[: len(planned.sources)], strict=False):
        stream["source"] = draft.source(profile, stream["source"])
    inferred = [json.loads(m.text.splitlines()[-1]) for m in done if m.name == "infer_schema"]
    if len(inferred) == len(streams):
        for stream, types in zip(streams, inferred, strict=True):
            _typed(stream, types)
    calls += [(name, {"spec": spec}) for name in STEPS[2:] if name in steps]
    return calls


def _typed(stream: dict[str, Any], inferred: dict[str, str]) -> None:
    transform = stream.get("transform", {})
    keep = set(transform.get("select") or inferred) - set(transform.get("drop", []))
    # The filter reads its columns before select/drop leaves them out; left untyped, a CSV
    # column is text and `amount > 20` would compare text ("3.95" > "20").
    rules = Transform.model_validate(transform)
    keep |= filter_columns(rules.filter) if rules.filter is not None else set()
    types = {column: kind for column, kind in inferred.items() if column in keep}
    # A hashed or masked column is text, as `dagsmith init --protect` types it.
    texts = {c for c, rule in rules.protect.items() if action(rule) in ("hash", "mask")}
    types |= {column: "string" for column in texts & set(types)}
    stream["transform"] = {**transform, "types": {**types, **transform.get("types", {})}}
