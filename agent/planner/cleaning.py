"""Cleaning rules: rename, select, drop, cast, fill, required, dedupe; incremental cursor."""

from __future__ import annotations

import re
from typing import Any

from agent.planner.grammar import IDENT, VALUE, scalar, take_list
from agent.planner.state import Parsed

_COL = rf"(?:\"[^\"]{{1,255}}\"|`[^`]{{1,255}}`|{IDENT})"
_ART = r"(?:(?:the|an?|any|all)\s+)?"
_EMPTY = r"(?:missing|empty|null|blank|not\s+set|absent|nulls?)"
_DROPPING = (
    r"\b(?:drop|skip|reject|discard|remove|ignore|exclude|filter(?:ing)?\s+out|throw\s+away|"
    r"leav(?:e|ing)\s+out|dropping|skipping|rejecting|discarding|removing|ignoring|excluding)"
)
_REQUIRED = [
    rf"{_DROPPING}\s+{_ART}(?:\w+\s+)?(?:that\s+(?:are|have)\s+|which\s+(?:are|have)\s+)?"
    rf"(?:missing|without|lacking|with\s+no|having\s+no|with\s+{_ART}{_EMPTY})\s+{_ART}",
    r"\bmake\s+sure\s+(?:that\s+)?(?:every|each|all)\s+\w+\s+(?:has|have)\s+(?:an?\s+|the\s+)?",
    r"\b(?:every|each|all)\s+\w+\s+(?:must|should)\s+have\s+(?:an?\s+|the\s+)?",
    r"\b(?:rows|records)\s+must\s+have\s+(?:an?\s+|the\s+)?",
    r"\brequir(?:e|ing)\s+(?:an?\s+|the\s+)?(?!\w+\s+(?:to|be)\b)",
]
_BEFORE = rf"{IDENT}(?:(?:\s*,\s*{IDENT})*\s+and\s+{IDENT})?"
"""Columns before their rule: `a`, `a and b`, `a, b and c` (a comma alone ends a clause)."""
_REQUIRED_AFTER = [
    rf"{_DROPPING}\s+(?:anyone|anybody|any\s+\w+|\w+|rows|records)\s+(?:whose|where|with)\s+"
    rf"(?P<cols>{IDENT})\s+(?:is|are)\s+{_EMPTY}\b",
    rf"\b(?:the\s+)?(?P<cols>{_BEFORE})\s+(?:is|are)\s+(?:required|"
    rf"mandatory)\b|\b(?:the\s+)?(?P<cols2>{_BEFORE})\s+(?:cannot|can't|"
    rf"must\s+not|mustn't|may\s+not|should\s+not)\s+be\s+{_EMPTY}",
]
_SELECT = [
    r"\b(?:keep(?:ing)?\s+|load(?:ing)?\s+|with\s+|select(?:ing)?\s+|take\s+)?(?:only|just)\s+"
    r"(?:the\s+)?(?P<word>columns?\s+)?",
    r"\b(?:select|keep)\s+(?:the\s+)?(?P<word>columns?)\s+",
]
_DROP = (
    r"\b(?:drop|remove|exclude|without|ignore|leave\s+out)(?:ping|ing)?\s+(?:the\s+)?"
    r"(?P<word>columns?)\s+"
)
_PAIRS = {
    "rename": [
        rf"\brenam\w*\s+(?:the\s+)?(?:column\s+)?(?P<a>{_COL})(?:\s+column)?\s+(?:to|as|->|into)"
        rf"\s+(?P<b>{IDENT})\b",
        rf"\b(?:the\s+)?(?P<a>{_COL})(?:\s+column)?\s+should\s+be\s+(?:called|named|renamed\s+"
        rf"to)\s+(?P<b>{IDENT})\b",
        rf"\bcall\s+(?:the\s+)?(?:column\s+)?(?P<a>{_COL})(?:\s+column)?\s+(?P<b>{IDENT})\b",
    ],
    "fill": [
        rf"\bfill\s+(?:in\s+)?(?:{_EMPTY}\s+)?(?P<a>{IDENT})\s+with\s+(?P<b>{VALUE})",
        rf"\b(?:treat(?:ing)?\s+|count(?:ing)?\s+|read(?:ing)?\s+|set(?:ting)?\s+)?(?:an?\s+|the\s+)?"
        rf"{_EMPTY}\s+(?P<a>{IDENT})(?:\s+values?)?\s+(?:as|to|with)\s+(?P<b>{VALUE})",
        rf"\bdefault(?:ing)?\s+(?P<a>{IDENT})\s+(?:to|as)\s+(?P<b>{VALUE})(?:\s+(?:when|if)\s+"
        rf"(?:it\s+is|it's|they\s+are)\s+{_EMPTY})?",
        rf"\b(?P<a>{IDENT})\s+defaults?\s+to\s+(?P<b>{VALUE})",
        rf"\breplace\s+{_EMPTY}\s+(?P<a>{IDENT})(?:\s+values?)?\s+with\s+(?P<b>{VALUE})",
        rf"\buse\s+(?P<b>{VALUE})\s+(?:when|where|if)\s+(?P<a>{IDENT})\s+is\s+{_EMPTY}",
    ],
    "types": [
        rf"\bcast\s+(?P<a>{IDENT})\s+(?:to|as)\s+(?P<b>[a-z]+(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?)",
    ],
}
_AND_PAIR = re.compile(rf"\s*(?:,\s*(?:and\s+)?|\band\s+)(?P<a>{_COL})\s+(?:to|as|->|with)\s+")
_DEDUPE = [
    r"\b(?:dedupe|de-?duplicate)(?:d|s)?(?:\s+(?:rows|it|them|the\s+rows))?(?:\s+(?:on|by|using)"
    r"\s+(?:the\s+)?(?P<list>))?",
    r"\bone\s+(?:row|record|entry|line)\s+(?:per|for\s+each|for\s+every|each)\s+(?P<list>)",
    r"\b(?:no|without)\s+duplicates?\s+(?:on\s+|of\s+|by\s+|in\s+)?(?P<list>)",
    r"\b(?:remov|drop|delet|eliminat|discard|skipp?)\w*\s+(?:the\s+|any\s+|all\s+)?duplicates?"
    r"(?:\s+(?:on|by|of|in))?\s*(?P<list>)",
]
_KEEP = re.compile(
    r"(?:,\s*|\s+)(?:and\s+|but\s+)?keep(?:ing|s)?\s+(?:only\s+)?(?:the\s+)?(?P<k>first|last|newest|"
    r"latest|most\s+recent|oldest|earliest)(?:\s+(?:one|row|version|record|entry))?",
    re.IGNORECASE,
)
_INCREMENTAL = [
    rf"\bincremental(?:ly)?\b(?:[^.;]|\.(?=\S))*?\b(?:by|on|using)\s+(?:the\s+)?(?:column\s+)?(?P<col>{IDENT})",
    rf"\bonly\s+new\s+(?:or\s+(?:changed|updated)\s+)?(?:rows|records)\s+(?:by|using|based\s+on)"
    rf"\s+(?P<col>{IDENT})",
    rf"\busing\s+(?P<col>{IDENT})\s+as\s+(?:the\s+)?(?:cursor|watermark)",
]
_MAX_REJECTS = re.compile(
    r"\bfail\s+(?:the\s+run\s+)?(?:if|when)\s+more\s+than\s+(\d+%|\d+)\s+(?:rows\s+)?"
    r"(?:are\s+)?rejected",
    re.IGNORECASE,
)


def read_cleaning(text: str, parsed: Parsed) -> None:
    """The stream's transform rules and incremental cursor."""
    for pattern in _INCREMENTAL:
        if (found := re.search(pattern, text, re.IGNORECASE)) and parsed.free_at(found, "col"):
            parsed.use(found)
            if column := parsed.column(found.group("col"), "the incremental cursor"):
                parsed.incremental["cursor"] = column
    for field, patterns in _PAIRS.items():
        for pattern in patterns:
            _pairs(text, pattern, field, parsed)
    for pattern in _REQUIRED:
        _list_after(text, pattern, "required", parsed)
    _dedupe(text, parsed)
    for pattern in _REQUIRED_AFTER:
        _list_before(text, pattern, parsed)
    _list_after(text, _DROP, "drop", parsed)
    for pattern in _SELECT:
        _list_after(text, pattern, "select", parsed)
    if limit := _MAX_REJECTS.search(text):
        parsed.use(limit)
        parsed.transform["max_rejects"] = scalar(limit.group(1))


def _pairs(text: str, pattern: str, field: str, parsed: Parsed) -> None:
    """`rename a to b, c to d and e to f`: {a: b, c: d, e: f}, values as scalars."""
    for match in re.finditer(pattern, text, re.IGNORECASE):
        if not parsed.free_at(match):
            continue
        pairs, end = [(match.group("a"), match.group("b"))], match.end()
        while more := _AND_PAIR.match(text, end):
            value = re.match(VALUE if field == "fill" else IDENT, text[more.end() :])
            if value is None:
                break
            pairs.append((more.group("a"), value.group(0)))
            end = more.end() + value.end()
        parsed.use((match.start(), end))
        for a, b in pairs:
            column = a.strip('"`') if a[0] in '"`' else parsed.column(a, field)
            if column is not None:
                parsed.transform.setdefault(field, {})[column] = b if field != "fill" else scalar(b)


def _list_after(text: str, pattern: str, field: str, parsed: Parsed) -> None:
    for match in re.finditer(pattern, text, re.IGNORECASE):
        items, used = take_list(text[match.end() :], parsed.facts)
        words = re.match(r"\s*columns?\b", text[match.end() + used :], re.IGNORECASE)
        end = match.end() + used + (words.end() if words else 0)
        if not items or not parsed.is_free(match.start(), end):
            continue
        said_columns = bool(words) or bool(match.groupdict().get("word"))
        if field == "select" and not said_columns and not _only_columns(text, end, items, parsed):
            continue  # "only the lost shipments": rows, for the filter reader
        if (columns := parsed.columns(items, field)) is not None:
            parsed.use((match.start(), end))
            old = parsed.transform.get(field, [])
            parsed.transform[field] = list(dict.fromkeys([*old, *columns]))


def _only_columns(text: str, end: int, items: list[str], parsed: Parsed) -> bool:
    """Whether 'only a, b' names columns: all known, and no noun of the rows after them."""
    after = re.match(r"\s+([a-z]\w*)", text[end:], re.IGNORECASE)
    noun = after is not None and after.group(1).lower().rstrip("s") in parsed.nouns
    return parsed.facts is not None and _all_known(items, parsed) and not noun


def _list_before(text: str, pattern: str, parsed: Parsed) -> None:
    compiled, pos = re.compile(pattern, re.IGNORECASE), 0
    while match := compiled.search(text, pos):
        pos = match.start() + 1
        group = "cols" if match.group("cols") else "cols2"
        items = [i for i in re.findall(IDENT, match.group(group)) if i.lower() != "and"]
        if not parsed.free_at(match) or not _all_known(items, parsed):
            continue
        if (columns := parsed.columns(items, "required")) is not None:
            parsed.use(match)
            old = parsed.transform.get("required", [])
            parsed.transform["required"] = list(dict.fromkeys([*old, *columns]))
            pos = match.end()


def _all_known(items: list[str], parsed: Parsed) -> bool:
    known = {name.lower() for name in parsed.facts or ()}
    return parsed.facts is None or all(item.lower() in known for item in items)


def _dedupe(text: str, parsed: Parsed) -> None:
    for pattern in _DEDUPE:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if not parsed.free_at(match):
                continue
            start = match.start("list") if match.group("list") is not None else match.end()
            items, used = (
                take_list(text[start:], parsed.facts)
                if match.group("list") is not None
                else ([], 0)
            )
            rows = re.match(r"\s+(?:rows|records|values|entries)\b", text[start + used :])
            parsed.use((match.start(), start + used + (rows.end() if rows else 0)))
            dedupe: dict[str, Any] = {"keys": parsed.columns(items, "dedupe") or []}
            if keep := _KEEP.search(text):
                parsed.use(keep)
                word = keep.group("k").lower()
                dedupe["keep"] = "first" if word in ("first", "oldest", "earliest") else "last"
            parsed.transform["dedupe"] = dedupe
            return
