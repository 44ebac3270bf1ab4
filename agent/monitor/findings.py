"""The vocabulary of a diagnosis: the findings, a diagnosis, and a proposed change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.monitor.evidence import Evidence

FINDINGS = (
    "bad_values",
    "new_column",
    "renamed_column",
    "source_unreachable",
    "auth_failed",
    "source_stalled",
    "volume_drop",
    "volume_spike",
    "slow_run",
    "duplicate_keys",
    "staging_full",
    "run_killed",
    "run_failed",
)
"""The vocabulary of findings (`run_failed`: a failure none of the others explains); and
`healthy`."""


@dataclass(frozen=True)
class ChangeRequest:
    """A spec change, before it is checked: fields of the stream (dotted) and their values."""

    summary: str
    sets: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Diagnosis:
    """What happened, the facts it rests on, the change proposed and what a person must do."""

    finding: str
    what_happened: str
    evidence: list[str]
    change: ChangeRequest | None = None
    action: str | None = None


def where(found: Evidence) -> str:
    return f"stream {found.stream.name} of pipeline {found.spec.pipeline}"


def first_line(text: str) -> str:
    """The first line of an error (its hint follows on the next)."""
    return next(iter(text.strip().splitlines()), "")
