"""How rows are written: append (the default), replace, or upsert on the keys the text names."""

from __future__ import annotations

import re

from agent.planner.grammar import take_list
from agent.planner.state import Parsed

_MODES = {
    "append": r"\b(?:append(?:s|ed|ing)?|add(?:s|ed|ing)?|insert(?:s|ed|ing)?)\b",
    "replace": (
        r"\b(?:replac(?:e|es|ed|ing)|overwrit(?:e|es|ing|ten)|refresh(?:es|ed|ing)?|"
        r"truncate(?:s|d)?\s+and\s+(?:re)?load|full(?:y)?\s+(?:re)?(?:load|refresh)|"
        r"reload(?:s|ed|ing)?(?:\s+(?:it\s+)?(?:in\s+)?full)?|wipe\s+and\s+(?:re)?load)\b"
    ),
    "upsert": (
        r"\b(?:upsert(?:s|ed|ing)?|merg(?:e|es|ed|ing)|(?:in\s+)?sync(?:ed|hroni[sz]ed)?"
        r"(?:\s+with)?|update(?:s|d)?\s+(?:existing\s+)?(?:rows|records)?)\b"
    ),
}
_KEY_LIST = (
    r"(?:\b(?:upsert\w*|merg\w+|sync\w*)\b(?:[^.;]|\.(?=\S))*?\b(?:on|by|using)\s+|"
    r"\b(?:keyed|matched|matching|identified)\s+(?:on|by)\s+|\bunique\s+(?:on|by|per)\s+|"
    r"\b(?:the\s+)?(?:primary\s+|upsert\s+|merge\s+)?keys?\s+(?:is|are|=|:)\s*|"
    r"\b(?:with|using|on)\s+(?:the\s+)?(?:primary\s+)?keys?\s+)"
    r"(?:the\s+)?(?:columns?\s+)?"
)
_KEY_BEFORE = re.compile(
    r"\b(?P<cols>\w+(?:\s*(?:,|and)\s*\w+)*)\s+(?:is|are)\s+(?:the\s+)?"
    r"(?:(?:primary|unique|upsert|merge)\s+)?(?:keys?\b|unique\b)",
    re.IGNORECASE,
)


def read_mode(text: str, parsed: Parsed) -> None:
    """The write mode and upsert keys, or a question when the text names two modes."""
    keys = _keys(text, parsed)
    found: list[str] = []
    for mode, pattern in _MODES.items():
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if parsed.free_at(match):
                found += [mode] if mode not in found else []
                parsed.use(match)
    found = found or (["upsert"] if keys else [])
    if len(found) > 1:
        parsed.ask(f"Which write mode: {' or '.join(found)}?")
        return
    if found:
        parsed.load["mode"] = found[0]
    if parsed.load.get("mode") == "upsert":
        if keys:
            parsed.load["keys"] = keys
        elif not parsed.load.get("keys"):
            parsed.ask("Which columns identify a row for the upsert? Say 'upsert on order_id'.")
    elif found:
        parsed.load.pop("keys", None)


def _keys(text: str, parsed: Parsed) -> list[str]:
    for match in re.finditer(_KEY_LIST, text, re.IGNORECASE):
        items, used = take_list(text[match.end() :], parsed.facts)
        if items and parsed.is_free(match.end(), match.end() + used):
            parsed.use((match.start(), match.end() + used))
            return parsed.columns(items, "the upsert key") or []
    pos = 0
    while before := _KEY_BEFORE.search(text, pos):
        pos = before.start() + 1
        if parsed.free_at(before):
            items, _ = take_list(before.group("cols"))
            if items and " ".join(items) == " ".join(re.findall(r"\w+", before.group("cols"))):
                parsed.use(before)
                return parsed.columns(items, "the upsert key") or []
    return []
