"""The offline planner: plain English, in any word order, parsed into a pipeline spec.

It reads a request (or a change to an earlier plan) and returns a validated `Pipeline` or
the questions to ask: it never invents a source, a table or a key, and a word it cannot
place is a question, never a value. Each reader finds its part wherever it stands and
marks the words it read; `agent.planner.chat.OfflineChatModel` drives the agent's tools
with it, and plans again once the source is profiled, so values such as "lost" in "only
the lost shipments" are placed in the column that holds them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from agent.planner.assemble import assemble
from agent.planner.cleaning import read_cleaning
from agent.planner.filters import read_filters
from agent.planner.formats import read_formats
from agent.planner.modes import read_mode
from agent.planner.options import read_alerts, read_retries
from agent.planner.protect import read_protect
from agent.planner.schedule import read_schedule
from agent.planner.sources import BARE, read_source, source_args
from agent.planner.state import Column, Facts, Parsed
from agent.planner.targets import read_target
from agent.planner.words import mend, nouns_of, unplaced
from connectors.spec import Pipeline
from connectors.spec.io import to_plain

_READERS = (read_retries, read_alerts, read_cleaning, read_mode, read_protect, read_filters)
_URL_WITH_LOGIN = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/@:]+:)[^\s/@]+@", re.IGNORECASE)
_ROW_NOUNS = {"row", "record", "entry", "line", "item", "one", "anyone", "everyone"}


@dataclass(frozen=True)
class Plan:
    """A validated spec, or the questions that must be answered first."""

    spec: Pipeline | None
    questions: list[str] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)
    """Each stream's source as the profile_source tool takes it: source, connection, table."""
    connections: dict[str, str] = field(default_factory=dict)
    """Database URLs the text named, by the connection id they become (`<pipeline>_source`)."""

    @property
    def source_args(self) -> dict[str, str]:
        """The first stream's source, as profile_source takes it."""
        return self.sources[0] if self.sources else {}


def plan(text: str, base: Plan | None = None, profiles: Mapping[str, Facts] | None = None) -> Plan:
    """Parse a description into a Pipeline, or the questions to ask the user.

    With `base` (an earlier plan of the conversation), the text is a change to it: "make
    it hourly", "also drop rows without email". What the text does not mention stays.
    `profiles` holds the profiled columns of each source, by the source's label.
    """
    text = " ".join(text.split())
    if _URL_WITH_LOGIN.search(text):
        return Plan(None, [_LOGIN_IN_URL])
    profiles = profiles or {}
    names = {n for facts in profiles.values() for c in facts.values() for n in (c.name, *c.values)}
    parsed = Parsed(mend(text, names))
    read_source(parsed.text, parsed)
    labels = [label for _, label, _ in parsed.sources]
    if not labels and base is not None and base.sources:
        labels = [_label(base.sources[0])]
    parsed.facts = profiles.get(labels[0]) if len(labels) == 1 else None
    if parsed.facts is not None and base is not None and base.spec is not None:
        parsed.facts = _renamed(parsed.facts, base.spec)
    read_formats(parsed.text, parsed, _types(base))
    read_schedule(parsed.text, parsed)
    read_target(parsed.text, parsed)
    parsed.nouns = nouns_of(*labels, *(t for _, t in parsed.tables)) | _ROW_NOUNS
    if base is not None and base.spec is not None:
        parsed.nouns |= nouns_of(*(s.load.table for s in base.spec.streams))
    for reader in _READERS:
        reader(parsed.text, parsed)
    urls = _bare_urls(parsed)
    spec, questions = assemble(text, parsed, base.spec if base else None)
    left = unplaced(parsed.text, parsed.used, parsed.nouns)
    if left and not questions:  # the question that blocks most comes first
        spec, questions = None, [_unplaced_question(left)]
    sources = [source_args(spec_, label) for _, label, spec_ in parsed.sources]
    connections: dict[str, str] = {}
    if not sources and base is not None:
        sources, connections = list(base.sources), dict(base.connections)
    if urls:  # placeholders while a question is open: the source is profiled through them
        spec, sources, connections = (
            _named_connections(spec, sources, urls) if spec else (spec, sources, urls)
        )
    return Plan(spec, questions, sources, connections)


def _renamed(facts: Facts, spec: Pipeline) -> Facts:
    """The columns under the names an earlier message gave them: a later message uses those
    ("rename bill_length_mm to bill_length", then "drop rows without bill_length")."""
    if len(spec.streams) != 1:
        return facts
    renames = spec.streams[0].transform.rename
    named = {}
    for name, column in facts.items():
        new = renames.get(name, renames.get(column.raw, name))
        named[new] = replace(column, name=new) if new != name else column
    return named


def _bare_urls(parsed: Parsed) -> dict[str, str]:
    """The database URLs of the sources, each under a placeholder id until the pipeline has
    a name (the URL itself never goes into the spec)."""
    urls: dict[str, str] = {}
    for _, _, source in parsed.sources:
        if "url" in source:
            placeholder = f"{BARE}_{len(urls) + 1}"
            urls[placeholder] = source.pop("url")
            source["connection"] = placeholder
    return urls


def _named_connections(
    spec: Pipeline, sources: list[dict[str, str]], urls: dict[str, str]
) -> tuple[Pipeline, list[dict[str, str]], dict[str, str]]:
    """The placeholders renamed `<pipeline>_source` (`_source_2`... for a second URL)."""
    ids = {
        placeholder: f"{spec.pipeline}_source" + (f"_{n}" if n > 1 else "")
        for n, placeholder in enumerate(urls, 1)
    }
    document = to_plain(spec)
    for placeholder, url in urls.items():  # the spec keeps the user's words, not the URL
        document["description"] = document.get("description", "").replace(url, ids[placeholder])
    for stream in document["streams"]:
        source = stream["source"]
        source["connection"] = ids.get(source.get("connection", ""), source.get("connection"))
    renamed = [
        {**args, "connection": ids[args["connection"]]} if args.get("connection") in ids else args
        for args in sources
    ]
    named = Pipeline.model_validate(document)
    return named, renamed, {ids[placeholder]: url for placeholder, url in urls.items()}


def _types(base: Plan | None) -> dict[str, object]:
    """The column types an earlier plan set (a question it asked may be answered there)."""
    if base is None or base.spec is None or len(base.spec.streams) != 1:
        return {}
    return dict(to_plain(base.spec)["streams"][0].get("transform", {}).get("types", {}))


def _label(args: dict[str, str]) -> str:
    return args.get("source") or f"table {args.get('table')}"


def _unplaced_question(words: list[str]) -> str:
    shown = ", ".join(repr(word) for word in dict.fromkeys(words))
    return (
        f"I could not place {shown} in the pipeline: say what it should do in other words "
        "(a column, a value, a schedule...), or leave it out."
    )


def mask_logins(text: str) -> str:
    """The text with the password of every `scheme://user:password@` URL masked."""
    return _URL_WITH_LOGIN.sub(r"\1***@", text)


_LOGIN_IN_URL = (
    "The description holds a URL with a password: never paste secrets. Put the URL in "
    "AIRFLOW_CONN_<ID> (environment or .env) and name the connection id instead."
)

__all__ = ["Column", "Facts", "Plan", "mask_logins", "plan"]
