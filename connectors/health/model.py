"""What a health check found: per check of each stream, what it expected, saw, and since when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["critical", "warning"]
Outcome = Literal["ok", "failed", "waiting"]
"""`waiting`: too few runs recorded to judge yet, which is not a problem."""
SHOWN_FINDINGS = 5
"""The most findings a one-line summary (an Airflow failure, an alert) names."""


@dataclass(frozen=True)
class CheckResult:
    """One check of one stream."""

    check: str
    stream: str
    status: Outcome
    severity: Severity
    expected: str
    seen: str
    since: datetime | None = None
    """When a failure began: the first run of it, or the moment a success fell due."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`: the time in ISO 8601, UTC."""
        return {
            "check": self.check,
            "stream": self.stream,
            "status": self.status,
            "severity": self.severity,
            "expected": self.expected,
            "seen": self.seen,
            "since": self.since.isoformat() if self.since else None,
        }


@dataclass(frozen=True)
class StreamHealth:
    """Every check of one stream, and the numbers the gauges carry."""

    stream: str
    results: list[CheckResult] = field(default_factory=list)
    seconds_since_success: float | None = None
    freshness_limit: float | None = None
    """The oldest, in seconds, the last success may be; None without a freshness check."""

    @property
    def ok(self) -> bool:
        """No check failed (a check still waiting for runs is no failure)."""
        return not self.findings

    @property
    def findings(self) -> list[CheckResult]:
        """The checks that failed."""
        return [result for result in self.results if result.status == "failed"]


@dataclass(frozen=True)
class PipelineHealth:
    """Every monitored stream of a pipeline, judged at one moment from one target."""

    pipeline: str
    target: str
    """The target's URL, password masked."""
    checked_at: datetime
    streams: list[StreamHealth] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check of any stream failed."""
        return all(stream.ok for stream in self.streams)

    def summary(self) -> str:
        """One line naming the failed checks (the first few), for a task's error and alerts."""
        found = [r for stream in self.streams for r in stream.findings]
        if not found:
            return f"{self.pipeline}: healthy ({len(self.streams)} stream(s) checked)"
        named = "; ".join(
            f"{r.stream} {r.check}: {r.seen} (expected {r.expected})"
            for r in found[:SHOWN_FINDINGS]
        )
        more = f"; and {len(found) - SHOWN_FINDINGS} more" if len(found) > SHOWN_FINDINGS else ""
        return f"{self.pipeline}: {len(found)} health check(s) failed: {named}{more}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json` and the task's XCom."""
        return {
            "pipeline": self.pipeline,
            "target": self.target,
            "checked_at": self.checked_at.isoformat(),
            "ok": self.ok,
            "streams": [
                {
                    "stream": stream.stream,
                    "ok": stream.ok,
                    "seconds_since_success": stream.seconds_since_success,
                    "checks": [result.to_dict() for result in stream.results],
                }
                for stream in self.streams
            ],
        }
