"""The offline planner: a documented phrasing of plain English, parsed into a pipeline spec.

It reads one sentence (or a few) and either returns a validated `Pipeline` or the questions
to ask: it never invents a source, a table or a key. The phrasing is in the README
("The offline planner"); `agent.planner.chat.OfflineChatModel` drives the agent's tools
with it, so the same agent loop runs without a hosted model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from agent.planner.cleaning import read_cleaning
from agent.planner.options import read_alerts, read_retries
from agent.planner.schedule import read_schedule
from agent.planner.sources import Parsed, read_mode, read_source, read_target
from connectors.spec import Pipeline
from connectors.spec.io import to_plain

_STEPS = (read_source, read_target, read_mode, read_schedule, read_cleaning)
_OPTIONS = (read_retries, read_alerts)
_URL_WITH_LOGIN = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/@:]+:)[^\s/@]+@", re.IGNORECASE)


@dataclass(frozen=True)
class Plan:
    """A validated spec, or the questions that must be answered first."""

    spec: Pipeline | None
    questions: list[str] = field(default_factory=list)
    source_args: dict[str, str] = field(default_factory=dict)
    """The source as the profile_source tool takes it: source, connection, table."""


def plan(text: str, base: Plan | None = None) -> Plan:
    """Parse a description into a Pipeline, or the questions to ask the user.

    With `base` (an earlier plan of the conversation), the text is a change to it: "make
    it hourly", "also drop rows without email". What the text does not mention stays.
    """
    text = " ".join(text.split())
    if _URL_WITH_LOGIN.search(text):
        return Plan(None, [_LOGIN_IN_URL])
    parsed = _start(base)
    for step in (*_STEPS, *_OPTIONS):
        step(text, parsed)
    if parsed.questions:
        return Plan(None, list(dict.fromkeys(parsed.questions)))
    earlier = parsed.pipeline.pop("description", "")
    description = f"{earlier.rstrip('. ')}. {text}" if earlier else text
    document: dict[str, Any] = {
        **parsed.pipeline,
        "description": description[:2000],
        "streams": [parsed.stream],
    }
    try:
        return Plan(Pipeline.model_validate(document), source_args=parsed.source_args)
    except ValidationError as exc:
        return Plan(None, [_question(error) for error in exc.errors(include_url=False)])


def _start(base: Plan | None) -> Parsed:
    """What the planner knows before reading: nothing, or the earlier plan's spec."""
    if base is None or base.spec is None or len(base.spec.streams) != 1:
        return Parsed()
    document = to_plain(base.spec)
    stream = document.pop("streams")[0]
    return Parsed(stream, document, source_args=dict(base.source_args), refining=True)


def mask_logins(text: str) -> str:
    """The text with the password of every `scheme://user:password@` URL masked."""
    return _URL_WITH_LOGIN.sub(r"\1***@", text)


_LOGIN_IN_URL = (
    "The description holds a URL with a password: never paste secrets. Put the URL in "
    "AIRFLOW_CONN_<ID> (environment or .env) and name the connection id instead."
)


def _question(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"] if not str(part).endswith("Source"))
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where or 'the pipeline'}: {message}. How should I change it?"


__all__ = ["Plan", "mask_logins", "plan"]
