"""Row filters by a value the text names: the profile says which column holds it.

"only the lost shipments", "for carrier ups only", "leaving out lost shipments", "is shipped",
"only penguins from Biscoe".
With no profile, or a value found in no column or in several, nothing is read here: the
word stays unplaced, and the planner asks.
"""

from __future__ import annotations

import re
from typing import Any

from agent.planner.grammar import IDENT
from agent.planner.state import Parsed

_WORD = r"(?P<v>\"[^\"]+\"|'[^']+'|[\w@.-]*\w)"
_NOUN = r"(?:\s+(?P<noun>[a-z_]\w*))?"
_NEG = (
    r"leav(?:e|ing)\s+out|exclud(?:e|ing)|except(?:\s+for)?|skip(?:ping)?|without|"
    r"drop(?:ping)?|remov(?:e|ing)|ignor(?:e|ing)|not"
)
_PATTERNS = [
    rf"\b(?:(?:keep(?:ing)?|load(?:ing)?|with|take)\s+)?(?:only|just)\s+(?:the\s+)?{_WORD}{_NOUN}",
    rf"\b(?:only\s+)?for\s+(?:the\s+)?(?:(?P<col>{IDENT})\s+)?{_WORD}{_NOUN}\s+only\b",
    rf"\bonly\s+for\s+(?:the\s+)?(?:(?P<col>{IDENT})\s+)?{_WORD}{_NOUN}",
    rf"\b(?P<neg>{_NEG})\s+(?:the\s+|any\s+|all\s+)?{_WORD}{_NOUN}",
    rf"\b(?:(?:that|which|who)\s+)?(?:is|are)\s+(?P<neg2>not\s+)?{_WORD}{_NOUN}",
    rf"\b{_WORD}{_NOUN}\s+only\b",
    # "only penguins from Biscoe", "just the orders in France": the value after a place word.
    rf"\b(?:only|just)\s+(?:the\s+)?(?:[a-z_]\w*\s+)?(?:from|in|at|on)\s+(?:the\s+)?{_WORD}",
]


def value_filters(text: str, parsed: Parsed) -> list[tuple[int, int, dict[str, Any]]]:
    """The value filters in the text, each with where it starts and ends."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    if parsed.facts is None:
        return found
    for pattern in _PATTERNS:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if condition := _read(match, parsed):
                found.append(condition)
    return found


def _read(match: re.Match[str], parsed: Parsed) -> tuple[int, int, dict[str, Any]] | None:
    if not parsed.free_at(match, "v"):
        return None
    placed = _holder(match.group("v").strip("\"'"), match.groupdict().get("col"), parsed)
    if placed is None:
        return None
    column, value = placed
    end = match.end("v")
    noun = match.groupdict().get("noun")
    if noun and noun.lower().rstrip("s") in parsed.nouns and parsed.is_free(*match.span("noun")):
        end = match.end("noun")
    if re.fullmatch(r"\s+only", match.string[end : match.end()], re.IGNORECASE):
        end = match.end()
    if not parsed.is_free(match.start(), end):
        return None
    parsed.use((match.start(), end))
    negated = bool(match.groupdict().get("neg") or match.groupdict().get("neg2"))
    return match.start(), end, {"column": column, "op": "!=" if negated else "=", "value": value}


def _holder(word: str, column: str | None, parsed: Parsed) -> tuple[str, str] | None:
    """The one column whose sampled values hold the word, and the value as sampled."""
    assert parsed.facts is not None
    holders = [
        (name, value)
        for name, facts in parsed.facts.items()
        if column in (None, name)
        for value in facts.values
        if value.lower() == word.lower()
    ]
    if holders and word.lower() in {name.lower() for name in parsed.facts}:
        parsed.ask(f"{word!r} is a column and a value of {holders[0][0]}: which do you mean?")
        return None
    if len(holders) > 1:
        names = ", ".join(name for name, _ in holders)
        parsed.ask(f"{word!r} is a value of several columns ({names}): which one do you mean?")
        return None
    return holders[0] if holders else None
