"""Why a stream run rejected rows: its commonest reasons, each with a few sample rows.

A rule's reason quotes the value that broke it (`column 'amount': -5 is below the minimum
0`), so no two reasons would group: to tally, the value is left out (`column 'amount': …
is below the minimum 0`). Memory stays bounded whatever the rejects: at most `KINDS`
reasons are told apart per stream (later ones count as their rule's "other reasons") and
`SAMPLES` rows are kept of each, their raw JSON cut at `RAW_CHARS`. The rows are kept as the
rejects table holds them: protected (`transform.protect`) and masked already.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = 50
SAMPLES = 3
RAW_CHARS = 2000
OTHER = "other reasons"

_QUOTED = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
# `column <name>: <value> <message>` (`connectors.transforms.validate`): a text value is
# quoted by repr, any other is printed bare (a number, a date) and holds no quote.
_VALUE = re.compile(rf"(column (?:{_QUOTED})): (?:{_QUOTED}|[^'\";]*?) (?=is |does )")


def general(reason: str) -> str:
    """The reason with the values it quotes left out, so like reasons are counted together."""
    return _VALUE.sub(_elided, reason) if "column " in reason else reason


def _elided(match: re.Match[str]) -> str:
    # A function, not a template: the template costs twice the time, per rejected row.
    return f"{match[1]}: … "


@dataclass(frozen=True)
class Sample:
    """One rejected row, as its rejects table row holds it."""

    row_number: int | None
    """1-based data row of the source; None for rows a load rejected."""
    reason: str
    raw: str
    """The row as JSON, protected and masked; cut at `RAW_CHARS`."""


@dataclass
class Reason:
    """Rows a rule rejected for one reason (its values left out)."""

    rule: str
    text: str
    count: int = 0
    samples: list[Sample] = field(default_factory=list)


class Reasons:
    """The reasons of one stream run's rejects, counted as rows are rejected."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], Reason] = {}

    def add(self, rule: str, reason: str, raw: str, row_number: int | None) -> None:
        """Count one rejected row; keep it as a sample while its reason has few."""
        key = (rule, general(reason))
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= KINDS:
                key = (rule, OTHER)
            found = self._found.setdefault(key, Reason(*key))
        found.count += 1
        if len(found.samples) < SAMPLES:
            cut = raw if len(raw) <= RAW_CHARS else raw[: RAW_CHARS - 1] + "…"
            found.samples.append(Sample(row_number, reason, cut))

    def top(self, count: int | None = None) -> list[Reason]:
        """The commonest reasons first (ties in the order they were met)."""
        ranked = sorted(self._found.values(), key=lambda reason: -reason.count)
        return ranked[:count]

    def of_rule(self, rule: str) -> list[Reason]:
        """One rule's reasons, commonest first."""
        return [reason for reason in self.top() if reason.rule == rule]
