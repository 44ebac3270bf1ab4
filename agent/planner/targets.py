"""Where rows go: the target tables wherever the text names them, the connection, the name."""

from __future__ import annotations

import re

from agent.planner.grammar import IDENT, STOP_WORDS, TABLE, WEEKDAYS
from agent.planner.state import Parsed

_ARTICLE = r"(?:(?:the|a|an|our|my|new|existing)\s+)*"
_CALLED = r"(?:(?:called|named)\s+)?"
_T = rf"(?P<table>{TABLE})"
_DOTTED = rf"(?P<table>{IDENT}\.{IDENT})(?![\w/@-]|\.\w)"
_PATTERNS = [
    rf"\b(?:into|onto)\s+{_ARTICLE}(?:table\s+{_CALLED})?{_T}(?:\s+table\b)?",
    rf"\b(?:to|in)\s+{_ARTICLE}table\s+{_CALLED}{_T}",
    rf"\b(?:to|in)\s+{_ARTICLE}{_T}\s+table\b",
    rf"\b(?:to|in)\s+{_ARTICLE}{_DOTTED}",
    rf"\bthe\s+(?:new\s+|existing\s+)?{_T}\s+table\b",
    rf"\b{_ARTICLE}table\s+(?:is\s+|should\s+be\s+|will\s+be\s+|:\s*)?{_CALLED}{_T}",
    rf"\breplace\s+{_ARTICLE}{_T}\s+with\b",
    rf"\b{_T}\s+should\s+(?:hold|contain|get|receive)\b",
    rf"(?<![\w./@:$-]){_DOTTED}",
]
_AND_TABLE = re.compile(  # "into raw.a and raw.b": a second table
    rf"\s+and\s+(?:into\s+|to\s+)?{_ARTICLE}({IDENT}\.{IDENT}(?![\w/@-]|\.\w)|{IDENT}(?=\s*(?:[.,;]|$)))",
    re.IGNORECASE,
)
_AFTER_SOURCE = re.compile(rf"\s*(?:to|in)\s+{_ARTICLE}{_T}\b", re.IGNORECASE)
_NOT_TABLE = STOP_WORDS | {"table", "it", "them", "a", "an", "the", "one", "database"}
_CONN = r"(?P<conn>[a-z][a-z0-9_]{0,99})"
_ON_CONN = re.compile(
    rf"\s+(?:on|in|at)\s+(?:the\s+)?(?:(?:connection|database|db)\s+)?{_CONN}"
    r"(?:\s+(?:connection|database|db)\b)?",
    re.IGNORECASE,
)
_CONN_WORD = re.compile(r"\b(?:connection|database|db)\b", re.IGNORECASE)
_KEYISH = re.compile(r"\b(?:upsert\w*|merg\w+|sync\w*|key\w*|unique)\b", re.IGNORECASE)
_OWN_KEYS = re.compile(
    r"\b(?:(?:upsert\w*|merg\w+|sync\w*)(?:\s+\w+){0,2}?\s+(?:on|by|using)|keyed\s+(?:on|by)|"
    r"unique\s+on|primary\s+key|key\s+is)\s+\w",
    re.IGNORECASE,
)
"""A key phrase of its own: then a bare 'on X' after the table names a connection."""
_TARGET = re.compile(
    r"\btarget\s+(?:connection\s+|database\s+)?(?P<conn>[a-z][a-z0-9_]*)\b", re.IGNORECASE
)
_NOT_CONN = STOP_WORDS | set(WEEKDAYS) | {f"{d}s" for d in WEEKDAYS} | {"demand", "weekday", "hand"}
_NAME = re.compile(
    r"\b(?:call\s+(?:it|the\s+pipeline)|name\s+(?:it|the\s+pipeline)|pipeline\s+(?:called|named))"
    r"\s+([a-z][a-z0-9_]{0,62})\b",
    re.IGNORECASE,
)


def read_target(text: str, parsed: Parsed) -> None:
    """The target tables, in the order the text names them; the connection; the name."""
    found: dict[str, int] = {}
    for pattern in _PATTERNS:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            table = match.group("table")
            if table.lower() in _NOT_TABLE or not parsed.free_at(match):
                continue
            parsed.use(match)
            found.setdefault(table, match.start("table"))
            _connection_after(text, match.end(), parsed)
            other = _AND_TABLE.match(text, match.end())
            if other and parsed.free_at(other) and other.group(1).lower() not in _NOT_TABLE:
                parsed.use(other)
                found.setdefault(other.group(1), other.start(1))
    for start, _, _ in parsed.sources:
        after = _AFTER_SOURCE.match(text, _source_end(text, start))
        if after and after.group("table").lower() not in _NOT_TABLE:
            parsed.use(after)
            found.setdefault(after.group("table"), after.start("table"))
    parsed.tables = sorted(((pos, table) for table, pos in found.items()), key=lambda t: t[0])
    for match in _TARGET.finditer(text):
        parsed.use(match)
        _set_target(parsed, match.group("conn"))
    if name := _NAME.search(text):
        parsed.use(name)
        parsed.name = name.group(1).lower()


def _source_end(text: str, start: int) -> int:
    return start + len(re.match(r"\S+", text[start:]).group(0).rstrip(",.;:"))  # type: ignore[union-attr]


def _connection_after(text: str, end: int, parsed: Parsed) -> None:
    match = _ON_CONN.match(text, end)
    if match is None or match.group("conn").lower() in _NOT_CONN or not parsed.free_at(match):
        return
    keyish = _KEYISH.search(text) and not _CONN_WORD.search(match.group(0))
    columns = {name.lower() for name in parsed.facts or ()}
    unknown = parsed.facts is None and not _OWN_KEYS.search(text)
    if keyish and (unknown or match.group("conn").lower() in columns):
        return  # "merge into orders on order_id": the key reader reads it
    parsed.use(match)
    _set_target(parsed, match.group("conn"))


def _set_target(parsed: Parsed, conn: str) -> None:
    if parsed.pipeline.get("target") not in (None, conn):
        parsed.ask(f"Which target connection: {parsed.pipeline['target']} or {conn}?")
    parsed.pipeline["target"] = conn
