"""Rejected rows grouped by rule, column and the *shape* of the value that broke the rule.

A reason quotes its value (`column 'amount': 'N/A' is not a valid decimal(10,2) number`).
Values are grouped by their shape: each run of digits becomes `9`, of letters `a`, other
characters stay, so `N/A` and `n/a` fall together (`a/a`), and so do `12.5.2024` and
`1.12.2024` (`9.9.9`), while each group keeps its own counts and a few distinct values.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

SAMPLES = 3
"""Distinct values kept per group."""
NULL_TOKENS = frozenset(
    {"n/a", "na", "#n/a", "null", "none", "nil", "nan", "-", "--", "?", "missing", "unknown"}
)
"""Values that spell "no value" (compared in lower case, trimmed)."""

_QUOTED = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
_REASON = re.compile(rf"^column ({_QUOTED}): ({_QUOTED}|[^'\";]*?) (?:is |does )")


@dataclass
class RejectGroup:
    """Rows one rule rejected for values of one shape in one column."""

    rule: str
    column: str | None
    pattern: str
    rows: int = 0
    values: list[str] = field(default_factory=list)
    """Up to SAMPLES distinct values, as the reasons quote them."""
    reason: str = ""
    """One reason, as the rejects table holds it."""

    @property
    def null_like(self) -> bool:
        """Every value kept spells "no value" (`N/A`, `null`, `-`...)."""
        return bool(self.values) and all(v.strip().lower() in NULL_TOKENS for v in self.values)


def shape(value: str) -> str:
    """The value's shape: runs of digits as `9`, of letters as `a`, the rest kept."""
    return re.sub(r"[^\W\d_]+", "a", re.sub(r"\d+", "9", value))


def column_value(reason: str) -> tuple[str, str] | None:
    """The column and the value a rule's reason quotes, or None when it quotes none."""
    found = _REASON.match(reason)
    if found is None:
        return None
    column, value = found[1], found[2]
    try:
        column = str(ast.literal_eval(column))
        value = str(ast.literal_eval(value)) if value[:1] in "'\"" else value
    except (ValueError, SyntaxError):
        return None
    return column, value


def group(rejected: Iterable[tuple[str, str, int]]) -> list[RejectGroup]:
    """Rejected rows, given as (rule, reason, rows), by (rule, column, shape), the largest
    groups first."""
    groups: dict[tuple[str, str | None, str], RejectGroup] = {}
    for rule, reason, rows in rejected:
        found = column_value(reason)
        column, value = found if found else (None, "")
        key = (rule, column, shape(value) if found else "")
        made = groups.setdefault(key, RejectGroup(*key, reason=reason))
        made.rows += rows
        if found and value not in made.values and len(made.values) < SAMPLES:
            made.values.append(value)
    return sorted(groups.values(), key=lambda g: (-g.rows, g.rule, g.column or "", g.pattern))
