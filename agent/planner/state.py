"""What the planner has read so far, and what it knows about each source's columns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Column:
    """One column of a profiled source: its name in the pipeline, type and sampled values."""

    name: str
    type: str
    values: tuple[str, ...] = ()
    raw: str = ""
    """The name in the source, before normalize_names ("OrderID"): what `rename` takes."""
    protect: str = ""
    """The `protect` rule proposed for it when the profile flags it as personal data."""
    pii: tuple[str, ...] = ()
    """The kinds of personal data its values look like (`email`, `phone`, `ipv4`)."""
    format: Mapping[str, Any] = field(default_factory=dict)
    """The format options its values were read with (`{"format": "%d.%m.%Y"}`), if any."""
    examples: tuple[str, ...] = ()
    """A few values as sampled (the first rows'), for a question to quote."""
    readings: Mapping[str, Any] = field(default_factory=dict)
    """Text that reads two ways (`03/05/2024`): each reading's type as a spec writes it, by
    its name (`day_first`, `month_first`, `decimal_comma`, `decimal_point`)."""


Facts = dict[str, Column]
"""A source's columns by their name in the pipeline (after normalize_names)."""


@dataclass
class Parsed:
    """What the readers found in one request: spec fragments, spans read, questions."""

    text: str
    facts: Facts | None = None
    """The columns of the (single) source, when it was profiled: names and values to check."""
    nouns: set[str] = field(default_factory=set)
    """Words that name the rows themselves: "shipments", "users", "records"."""
    sources: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    """Each source found: where it stands, its label for profile_source, its spec."""
    tables: list[tuple[int, str]] = field(default_factory=list)
    pipeline: dict[str, Any] = field(default_factory=dict)
    load: dict[str, Any] = field(default_factory=dict)
    transform: dict[str, Any] = field(default_factory=dict)
    filters: list[dict[str, Any]] = field(default_factory=list)
    incremental: dict[str, Any] = field(default_factory=dict)
    proposed: dict[str, str] = field(default_factory=dict)
    """The `protect` rules proposed for the profile's personal data ("protect personal
    data"), fitted to the stream's keys and cursor when it is assembled."""
    name: str | None = None
    questions: list[str] = field(default_factory=list)
    used: list[tuple[int, int]] = field(default_factory=list)

    def use(self, match: re.Match[str] | tuple[int, int], group: int | str = 0) -> None:
        """Mark the words of a match (or a span) as read."""
        span = match if isinstance(match, tuple) else match.span(group)
        if span[1] > span[0]:
            self.used.append(span)

    def free_at(self, match: re.Match[str], group: int | str = 0) -> bool:
        """Whether no reader has read any of the words of a match's group yet."""
        return self.is_free(*match.span(group))

    def is_free(self, start: int, end: int) -> bool:
        """Whether no reader has read any of the text between start and end yet."""
        return not any(s < end and start < e for s, e in self.used)

    def ask(self, question: str) -> None:
        """Add a question (once)."""
        if question not in self.questions:
            self.questions.append(question)

    def column(self, word: str, what: str) -> str | None:
        """A column name the text gives, checked against the profile when there is one.

        Returns None (and asks) when the profile has no such column.
        """
        if self.facts is None or word in self.facts:
            return word
        if what == "rename" and word in {c.raw for c in self.facts.values()}:
            return word
        lowered = {name.lower(): name for name in self.facts}
        if word.lower() in lowered:
            return lowered[word.lower()]
        known = ", ".join(list(self.facts)[:20])
        self.ask(f"{what}: the source has no column {word!r} (it has {known}). Which one?")
        return None

    def columns(self, words: list[str], what: str) -> list[str] | None:
        """Several column names, each checked; None when one is unknown."""
        found = [self.column(word, what) for word in words]
        return None if None in found else [c for c in found if c is not None]
