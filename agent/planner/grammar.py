"""Shared pieces of the offline planner's phrasing: column lists, values, times."""

from __future__ import annotations

import re
from collections.abc import Collection

IDENT = r"[A-Za-z_][A-Za-z0-9_]{0,62}"
TABLE = rf"{IDENT}(?:\.{IDENT})?"
_ITEM = re.compile(rf"\s*(?:\"([^\"]{{1,255}})\"|`([^`]{{1,255}})`|({IDENT})\b)")
_SEP = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\band\s+|\bor\s+|\+\s*|&\s*)")
NUMBER = r"-?\d+(?:\.\d+)?"
_CLAUSE = re.compile(
    rf"{IDENT}\s+(?:is|are|was|cannot|can't|must|should|has|have|to|as|=|>|<|!|[\w.+-]+@|"
    r"(?:use|hold|contain|look|mean|come)s?\b|using\b)",
    re.IGNORECASE,
)
"""After a comma or 'and', a word that starts a clause of its own ("name cannot be empty")."""

STOP_WORDS = frozenset(
    """a an and alert alerts append as at by call cast columns column cron daily dedupe
    deduplicate drop each every keeping but leaving removing dropping treating renaming
    upserting merging skipping excluding except whose only just plus also make run set send use
    change switch treat skip remove ignore exclude leave bring ingest import copy put take
    refresh sync merge please fail fill filter from hourly if in incremental
    incrementally into it keep key keys load monthly named new no notify on only or
    overwrite rename replace require retries retry rows run schedule select skip table target
    the then to upsert using via weekdays weekly when where with hash mask redact protect
    anonymize anonymise pseudonymize pseudonymise""".split()  # noqa: SIM905
)
"""Words that start or join a clause: a bare list of columns stops before them."""

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def take_list(text: str, known: Collection[str] | None = None) -> tuple[list[str], int]:
    """Read a list of column names from the start of `text`: `a, b and "Col C"`.

    A bare word that starts a new clause (`drop`, `every`...) ends the list; quote a column
    whose name is such a word. With `known` (the source's columns), a list goes on after a
    comma or 'and' only with a known column. Returns the names and how many characters
    were read.
    """
    known_lower = {name.lower() for name in known} if known is not None else None
    items: list[str] = []
    pos = end = 0
    while match := _ITEM.match(text, pos):
        bare = match.group(3)
        if bare is not None and bare.lower() in STOP_WORDS:
            break
        if (
            items
            and bare is not None
            and known_lower is not None
            and bare.lower() not in known_lower
        ):
            break
        items.append(match.group(1) or match.group(2) or bare)
        pos = end = match.end()
        sep = _SEP.match(text, pos)
        if sep is None or _CLAUSE.match(text, sep.end()):
            break
        pos = sep.end()
    return items, end


def scalar(text: str) -> str | int | float | bool:
    """A value as the user wrote it: quoted text, a number, true/false, or a word."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(NUMBER, text):
        return float(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


VALUE = rf"(?:\"[^\"]*\"|'[^']*'|{NUMBER}\b|[\w.@-]+)"
"""One value: quoted text, a number, or a bare word."""

TIME = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm|a\.m\.|p\.m\.)?|noon|midnight"


def clock(match: re.Match[str]) -> tuple[int, int] | None:
    """(hour, minute) of a TIME match; None when the time does not exist."""
    text = match.group(0).lower()
    if text in ("noon", "midnight"):
        return (12 if text == "noon" else 0), 0
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    half = (match.group("half") or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour, minute
