"""Hand-written mistakes of an imperfect tool-calling model, played by the local stand-in.

Each behaviour replaces some of the stand-in's honest replies (the offline planner's next
step) with a scripted wrong one: a misnamed field, a missing field, prose instead of a tool
call, a tool called with arguments of the wrong shape, a loop, a spec that fails its dry
run. The agent answers each as it would a hosted model; the stand-in then hides its own
mistakes (and their answers) from the planner, so it goes on honestly where it left off.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.orchestrator.agent import NUDGE

MISTAKE = "call_mistake"
PROSE = "Sure! I will load the orders file into the orders table for you, every day."
Script = Callable[[int, AIMessage], AIMessage | None]
"""(mistakes made so far, the honest reply) -> the scripted reply, or None to be honest."""


def is_mistake(message: BaseMessage) -> bool:
    """Whether a message is a scripted mistake, its answer, or the agent's nudge after prose."""
    if isinstance(message, ToolMessage):
        return message.tool_call_id.startswith(MISTAKE)
    if isinstance(message, AIMessage):
        return message.text == PROSE or any(c["id"].startswith(MISTAKE) for c in message.tool_calls)
    return isinstance(message, HumanMessage) and message.text == NUDGE


def play(behaviour: str, messages: Sequence[BaseMessage], honest: AIMessage) -> AIMessage:
    """The reply a model with `behaviour` gives, where the honest one would be `honest`."""
    made = sum(isinstance(m, AIMessage) and is_mistake(m) for m in messages)
    return SCRIPTS[behaviour](made, honest) or honest


def _call(honest: AIMessage) -> dict[str, Any] | None:
    return honest.tool_calls[0] if honest.tool_calls else None


def _wrong(name: str, args: dict[str, Any], made: int) -> AIMessage:
    call = {"name": name, "args": args, "id": f"{MISTAKE}_{made}", "type": "tool_call"}
    return AIMessage(content="", tool_calls=[call])


def _spec_edit(edit: Callable[[dict[str, Any]], None]) -> Script:
    """A script that makes one wrong validate_spec, its spec changed by `edit`."""

    def script(made: int, honest: AIMessage) -> AIMessage | None:
        call = _call(honest)
        if made or call is None or call["name"] != "validate_spec":
            return None
        args = json.loads(json.dumps(call["args"]))
        edit(args["spec"])
        return _wrong("validate_spec", args, made)

    return script


def _drop_keys(spec: dict[str, Any]) -> None:
    spec["streams"][0]["load"].pop("keys", None)


def _misname_table(spec: dict[str, Any]) -> None:
    load = spec["streams"][0]["load"]
    load["table_name"] = load.pop("table")


def _omit_source(spec: dict[str, Any]) -> None:
    spec["streams"][0].pop("source")


def _prose(made: int, honest: AIMessage) -> AIMessage | None:
    return AIMessage(content=PROSE) if made == 0 else None


def _spec_as_text(made: int, honest: AIMessage) -> AIMessage | None:
    """validate_spec called with the spec as a YAML string, not an object."""
    call = _call(honest)
    if made or call is None or call["name"] != "validate_spec":
        return None
    return _wrong("validate_spec", {"spec": "pipeline: orders\nstreams: [...]"}, made)


def _loop(made: int, honest: AIMessage) -> AIMessage | None:
    """profile_source, again and again, whatever the answer."""
    return _wrong("profile_source", {"source": "examples/data/orders.csv"}, made)


def _failing_dry_runs(attempts: int | None) -> Script:
    """Specs whose upsert key is misspelled (it validates and renders, but its dry run
    fails), through validate/render/dry_run, `attempts` times (None: for ever)."""
    steps = ("validate_spec", "render_dag", "dry_run")
    keys = ("orderid", "order_no", "id", "order")

    def script(made: int, honest: AIMessage) -> AIMessage | None:
        call = _call(honest)
        if attempts is not None and made >= attempts * len(steps):
            return None
        if call is None or call["name"] not in (*steps, "save_pipeline"):
            return None
        args = json.loads(json.dumps(call["args"]))
        args["spec"]["streams"][0]["load"]["keys"] = [keys[made // len(steps) % len(keys)]]
        return _wrong(steps[made % len(steps)], args, made)

    return script


SCRIPTS: dict[str, Script] = {
    "missing_keys": _spec_edit(_drop_keys),
    "misnamed_field": _spec_edit(_misname_table),
    "missing_field": _spec_edit(_omit_source),
    "prose": _prose,
    "wrong_arguments": _spec_as_text,
    "loop": _loop,
    "dry_run_fails_then_fixed": _failing_dry_runs(2),
    "dry_run_always_fails": _failing_dry_runs(None),
}
