"""Cleaning rules: rename, keep only, drop, cast, fill, required, filter, dedupe; incremental."""

from __future__ import annotations

import re
from typing import Any

from agent.planner.grammar import IDENT, NUMBER, VALUE, lists_after, scalar, take_list
from agent.planner.sources import Parsed

_COLUMN = rf"(?:\"[^\"]{{1,255}}\"|`[^`]{{1,255}}`|{IDENT})"
_PAIRS = {
    "rename": (r"\brename\s+", rf"(?P<a>{_COLUMN})\s+(?:to|as|->)\s+(?P<b>{IDENT})\b"),
    "fill": (
        r"\bfill\s+(?:in\s+)?(?:(?:missing|empty|null|blank)\s+)?",
        rf"(?P<a>{IDENT})\s+with\s+(?P<b>{VALUE})",
    ),
    "types": (
        r"\bcast\s+",
        rf"(?P<a>{IDENT})\s+(?:to|as)\s+(?P<b>[a-z]+(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?)",
    ),
}
_PAIR_SEP = re.compile(r"\s*(?:,\s*(?:and\s+)?|\band\s+)")
_REQUIRED = (
    r"\b(?:drop|skip|reject|discard|remove)\s+(?:the\s+|any\s+)?rows\s+(?:that\s+are\s+)?"
    r"(?:missing|without|lacking|with\s+no|with\s+(?:an?\s+)?(?:empty|null|blank|missing))\s+"
    r"(?:an?\s+)?|\brequire\s+"
)
_SELECT = r"\bkeep\s+only\s+(?:the\s+)?columns?\s+"
_DROP = r"\bdrop\s+(?:the\s+)?columns?\s+"
_KEEP_ONLY = re.compile(r"\bkeep\s+only\s+(?!(?:the\s+)?columns?\b|rows\b)(\S+)", re.IGNORECASE)
_DEDUPE = re.compile(
    r"\b(?:dedupe|de-?duplicate|remove\s+duplicates)\b(?:\s+(?:rows\s+)?(?:on|by)\s+)?",
    re.IGNORECASE,
)
_KEEP = re.compile(r"^[\s,]*(?:and\s+)?keep(?:ing)?\s+(?:the\s+)?(first|last)\b", re.IGNORECASE)
_FILTER = r"\b(?:where|filter\s+(?:rows\s+)?(?:where|on)|only\s+rows\s+(?:where|with))\s+"
_ALLOWED = re.compile(
    rf"^(?P<col>{IDENT})\s+(?:is\s+one\s+of|is|=+|equals|in)\s+\(?(?P<vals>{VALUE}"
    rf"(?:\s*(?:,|\bor\b)\s*{VALUE})*)\)?",
    re.IGNORECASE,
)
_BOUND = re.compile(
    rf"^(?P<col>{IDENT})\s*(?:is\s+)?(?P<op>>=|<=|>|<|at\s+least|at\s+most|between)\s*"
    rf"(?P<lo>{NUMBER})(?:\s+and\s+(?P<hi>{NUMBER}))?",
    re.IGNORECASE,
)
_INCREMENTAL = re.compile(
    rf"\b(?:only\s+new\s+(?:or\s+(?:changed|updated)\s+)?rows\s+(?:by|using|based\s+on)|"
    rf"incremental(?:ly)?\s+(?:by|on|using))\s+(?P<col>{IDENT})",
    re.IGNORECASE,
)
_MAX_REJECTS = re.compile(
    r"\bfail\s+(?:the\s+run\s+)?(?:if|when)\s+more\s+than\s+(\d+%|\d+)\s+(?:rows\s+)?"
    r"(?:are\s+)?rejected",
    re.IGNORECASE,
)


def read_cleaning(text: str, parsed: Parsed) -> None:
    """The stream's transform and incremental cursor, from the cleaning phrases."""
    transform: dict[str, Any] = {}
    for field, (lead, pair) in _PAIRS.items():
        if found := _pairs(text, lead, pair):
            transform[field] = found
    for field, pattern in (("required", _REQUIRED), ("select", _SELECT), ("drop", _DROP)):
        columns = [c for items in lists_after(pattern, text) for c in items]
        if columns:
            transform[field] = list(dict.fromkeys(columns))
    if vague := _KEEP_ONLY.search(text):
        parsed.questions.append(
            f"'keep only {vague.group(1)}': say 'keep only columns a, b' to keep columns, or "
            "'keep only rows where status is paid' to keep rows."
        )
    _filters(text, transform, parsed)
    _dedupe(text, transform, parsed)
    if limit := _MAX_REJECTS.search(text):
        transform["max_rejects"] = scalar(limit.group(1))
    if transform:
        parsed.stream["transform"] = _merged(parsed.stream.get("transform", {}), transform)
    if cursor := _INCREMENTAL.search(text):
        parsed.stream["incremental"] = {"cursor": cursor.group("col")}


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """An earlier transform with a change's rules added: mappings and lists grow, the rest
    (select, dedupe, max_rejects) is replaced."""
    merged = dict(old)
    for field, value in new.items():
        if isinstance(value, dict) and field != "dedupe":
            merged[field] = {**old.get(field, {}), **value}
        elif isinstance(value, list) and field != "select":
            merged[field] = list(dict.fromkeys([*old.get(field, []), *value]))
        else:
            merged[field] = value
    return merged


def _pairs(text: str, lead: str, pair: str) -> dict[str, Any]:
    """`lead a to b, c to d and e to f`: {a: b, c: d, e: f}, values as scalars."""
    found: dict[str, Any] = {}
    item_pattern = re.compile(pair, re.IGNORECASE)
    for match in re.finditer(lead, text, re.IGNORECASE):
        pos = match.end()
        while item := item_pattern.match(text, pos):
            found[item.group("a").strip('"`')] = scalar(item.group("b"))
            sep = _PAIR_SEP.match(text, item.end())
            if sep is None:
                break
            pos = sep.end()
    return found


def _filters(text: str, transform: dict[str, Any], parsed: Parsed) -> None:
    ranges: dict[str, dict[str, Any]] = {}
    for match in re.finditer(_FILTER, text, re.IGNORECASE):
        rest = text[match.end() :]
        if bound := _BOUND.match(rest):
            _bound(bound, ranges, parsed)
        elif allowed := _ALLOWED.match(rest):
            values = re.split(r"\s*(?:,|\bor\b)\s*", allowed.group("vals"), flags=re.IGNORECASE)
            ranges[allowed.group("col")] = {"allowed": [scalar(v) for v in values if v]}
        else:
            parsed.questions.append(
                f"I cannot read the filter '{rest[:60]}': say 'where status is paid or shipped', "
                "'where amount >= 0' or 'where amount between 0 and 100'."
            )
    if ranges:
        transform["ranges"] = ranges


def _bound(match: re.Match[str], ranges: dict[str, dict[str, Any]], parsed: Parsed) -> None:
    op = " ".join(match.group("op").lower().split())
    low = scalar(match.group("lo"))
    column = ranges.setdefault(match.group("col"), {})
    if op in (">", "<"):
        parsed.questions.append(
            f"Bounds are inclusive: do you mean {match.group('col')} "
            f"{'>=' if op == '>' else '<='} {low}, or another bound?"
        )
    elif op == "between" and match.group("hi") is not None:
        column.update(min=low, max=scalar(match.group("hi")))
    else:
        column["min" if op in (">=", "at least") else "max"] = low


def _dedupe(text: str, transform: dict[str, Any], parsed: Parsed) -> None:
    match = _DEDUPE.search(text)
    if match is None:
        return
    keys, used = take_list(text[match.end() :])
    keys = keys or list(parsed.stream.get("load", {}).get("keys", []))
    if not keys:
        parsed.questions.append("Dedupe on which columns? Say 'dedupe on order_id'.")
        return
    keep = _KEEP.match(text[match.end() + used :])
    transform["dedupe"] = {"keys": keys, "keep": keep.group(1).lower() if keep else "last"}
