"""Row filters: comparisons a sentence states ("where price > 20", "aged 30 or older",
"between 5 and 10", "page in home, search") and values it names that the profile places
in one column ("only the lost shipments", "for carrier ups only", "is shipped")."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

from agent.planner.grammar import IDENT, NUMBER, scalar
from agent.planner.state import Parsed
from agent.planner.values import value_filters

_V = rf"(?:\"[^\"]*\"|'[^']*'|{NUMBER}\b|[\w@.-]*\w)"
_OPS = [
    ("between", r"between\s+(?P<lo>-?\d+(?:\.\d+)?)\s+and\s+(?P<hi>-?\d+(?:\.\d+)?)"),
    ("not_in", r"(?:is\s+|are\s+)?(?:not\s+in|not\s+one\s+of|none\s+of)\s+"),
    ("in", r"(?:is\s+|are\s+)?(?:in|one\s+of|any\s+of)\s+"),
    ("<=", r"(?:is|are)\s+not\s+(?:above|over|(?:more|greater|higher)\s+than)\s*"),
    (">=", r"(?:is|are)\s+not\s+(?:below|under|(?:less|fewer|lower)\s+than)\s*"),
    (
        "is_not_null",
        r"(?:is|are)\s+(?:not\s+(?:null|empty|missing|blank)|present|set|filled\s+in|known)\b",
    ),
    ("is_null", r"(?:is|are)\s+(?:null|empty|missing|blank|unknown)\b"),
    (
        ">=",
        r"(?:is\s+|are\s+)?(?:>=|=>|at\s+least|no\s+less\s+than|not\s+less\s+than|min(?:imum)?)\s*",
    ),
    (
        "<=",
        r"(?:is\s+|are\s+)?(?:<=|=<|at\s+most|no\s+more\s+than|not\s+more\s+than|up\s+to|max(?:imum)?)\s*",
    ),
    (
        ">",
        r"(?:is\s+|are\s+)?(?:>|(?:more|greater|higher|bigger|larger)\s+than|above|over|exceeds?|exceeding)\s*",
    ),
    ("<", r"(?:is\s+|are\s+)?(?:<|(?:less|fewer|lower|smaller)\s+than|below|under)\s*"),
    ("!=", r"(?:!=|<>|(?:is|are)\s+not|isn't|aren't|does\s*n[o']?t\s+equal|other\s+than)\s*"),
    ("=", r"(?:==|=|equals|(?:is|are)(?:\s+equal\s+to)?)\s*"),
]
_POSTFIX = re.compile(
    rf"(?:is\s+|are\s+|of\s+)?(?P<v>{NUMBER})\s+(?:or|and)\s+(?P<w>more|older|above|higher|greater"
    r"|over|up|less|younger|fewer|below|lower|under)\b",
    re.IGNORECASE,
)
_INVERSE = {"=": "!=", "!=": "=", "in": "not_in", "not_in": "in", ">": "<=", "<=": ">", "<": ">=",
            ">=": "<", "is_null": "is_not_null", "is_not_null": "is_null"}  # fmt: skip
_LEAD = (
    r"(?:(?P<neg>leav(?:e|ing)\s+out|exclud(?:e|ing)|except|skip(?:ping)?|drop(?:ping)?|"
    r"remov(?:e|ing))\s+(?:the\s+|any\s+)?(?:\w+\s+)?(?:where|whose|with|that\s+have)\s+|"
    r"(?:keep(?:ing)?\s+)?only\s+(?:the\s+)?(?:\w+\s+)?(?:(?:where|whose|with|having|who\s+are)\s+)?|"
    r"(?:filter(?:ing)?\s+(?:the\s+)?(?:rows\s+|records\s+)?)?(?:where|whose|with|having|if|for)\s+|"
    r"(?:and|or|but|,)\s+)?"
)
_SUBJECT = re.compile(rf"{_LEAD}(?P<col>{IDENT})\s+", re.IGNORECASE)
_LIST_SEP = re.compile(r"\s*(?:,\s*(?:or\s+|and\s+)?|\bor\s+|\band\s+)", re.IGNORECASE)
_OR = re.compile(r"\s*,?\s*\bor\s+", re.IGNORECASE)
_NOT_VALUE = re.compile(r"\s+(?:is|are|>|<|=|!)", re.IGNORECASE)


def read_filters(text: str, parsed: Parsed) -> None:
    """Each row filter the text states, into `parsed.filters`, in the text's order."""
    found: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    while subject := _SUBJECT.search(text, pos):
        condition = _condition(text, subject, parsed)
        pos = condition[1] if condition else subject.start() + 1
        if condition:
            found.append(condition)
    found += value_filters(text, parsed)
    found.sort(key=lambda item: item[0])
    joins = {_join(text[a[1] : b[0]]) for a, b in pairwise(found)}
    if len(joins) > 1:
        parsed.ask("Do the row filters all have to hold, or any one of them? Say 'and' or 'or'.")
        return
    conditions = [condition for _, _, condition in found]
    if len(conditions) == 1:
        parsed.filters.append(conditions[0])
    elif conditions:
        parsed.filters.append({"any" if joins == {"or"} else "all": conditions})


def _join(gap: str) -> str:
    return "or" if re.search(r"\bor\b", gap, re.IGNORECASE) else "and"


def _condition(
    text: str, subject: re.Match[str], parsed: Parsed
) -> tuple[int, int, dict[str, Any]] | None:
    column = _column(subject.group("col"), parsed)
    if column is None or not parsed.free_at(subject, "col"):
        return None
    at = subject.end()
    if post := _POSTFIX.match(text, at):
        upward = post.group("w").lower() in (
            "more",
            "older",
            "above",
            "higher",
            "greater",
            "over",
            "up",
        )
        return _done(
            subject, post.end(), column, ">=" if upward else "<=", scalar(post.group("v")), parsed
        )
    for said, pattern in _OPS:
        if match := re.compile(pattern, re.IGNORECASE).match(text, at):
            return _compared(text, subject, column, said, match, parsed)
    return None


def _compared(
    text: str, subject: re.Match[str], column: str, said: str, op: re.Match[str], parsed: Parsed
) -> tuple[int, int, dict[str, Any]] | None:
    """The condition after its operator: a range, a null test, or one value or several."""
    if said == "between":
        value: Any = [scalar(op.group("lo")), scalar(op.group("hi"))]
        return _done(subject, op.end(), column, said, value, parsed)
    if said.startswith("is_"):
        return _done(subject, op.end(), column, said, None, parsed)
    values, end = _values(text, op.end(), parsed, said in ("in", "not_in"))
    if len(values) > 1:
        said = {"=": "in", "!=": "not_in"}.get(said, said)
        if said not in ("in", "not_in"):
            return None
    elif not values:
        return None
    chosen = values if said in ("in", "not_in") else values[0]
    return _done(subject, end, column, said, chosen, parsed)


def _values(text: str, at: int, parsed: Parsed, listed: bool) -> tuple[list[Any], int]:
    """Values from `at`: one, or (after 'in') a list; 'is a or b' is a list too."""
    values: list[Any] = []
    opened = re.match(r"\(\s*", text[at:])
    pos = at + (opened.end() if opened else 0)
    while (value := re.compile(_V).match(text, pos)) and parsed.free_at(value):
        if _NOT_VALUE.match(text, value.end()) or value.group(0).lower() in ("and", "or", "the"):
            break
        values.append(scalar(value.group(0)))
        pos = value.end()
        sep = (_LIST_SEP if listed else _OR).match(text, pos)
        if sep is None or not re.compile(_V).match(text, sep.end()):
            break
        follow = re.compile(_V).match(text, sep.end())
        if follow is None or _NOT_VALUE.match(text, follow.end()) or not parsed.free_at(follow):
            break
        pos = sep.end()
    closed = re.match(r"\s*\)", text[pos:]) if opened else None
    return values, pos + (closed.end() if closed else 0)


def _done(
    subject: re.Match[str], end: int, column: str, op: str, value: Any, parsed: Parsed
) -> tuple[int, int, dict[str, Any]] | None:
    if not parsed.is_free(subject.end(), end):
        return None
    if subject.group("neg"):
        op = _INVERSE[op]
    facts = parsed.facts
    numeric = facts is not None and facts[column].type in _NUMERIC
    if numeric and any(not isinstance(v, int | float) for v in _listed(value)):
        parsed.ask(f"{column} holds numbers: which number did you mean in {subject.group(0)!r}?")
        return None
    parsed.use((subject.start(), end))
    condition: dict[str, Any] = {"column": column, "op": op}
    if value is not None:
        condition["value"] = value
    return subject.start(), end, condition


_NUMERIC = ("bigint", "integer", "int", "double", "float", "decimal", "numeric", "smallint")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _column(word: str, parsed: Parsed) -> str | None:
    """The column a word names: itself, or with a profile a column it inflects (aged: age)."""
    if parsed.facts is None:
        return word if word.lower() not in _NOT_SUBJECT else None
    if word in parsed.facts:
        return word
    low = word.lower()
    stems = [
        c
        for c in parsed.facts
        if len(c) >= 3 and low.startswith(c.lower()) and len(low) - len(c) <= 2
    ]
    return stems[0] if len(stems) == 1 else None


_NOT_SUBJECT = frozenset(
    """it this that which who rows row records data file table only and or but where whose
    with having if for keep keeping load loads the a an each every all""".split()  # noqa: SIM905
)
