"""A review as Markdown, for a pull-request comment: what changed, what to look at twice,
and whether each DAG at HEAD matches its spec and imports."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.dags.dagfiles import CheckResult
    from agent.gitflow.changes import Change

RISK = "⚠️"


@dataclass
class Review:
    """What `dagsmith review` found between two revisions.

    Attributes:
        base: How the report names the base (a revision and its short hash).
        head: How it names the head (a revision, or the working tree).
        changes: Every change, grouped by pipeline in order.
        checks: One result per spec at HEAD (and per generated DAG whose spec is gone).
        notes: Things the reviewer should know that are not failures.
    """

    base: str
    head: str
    changes: list[Change] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check on HEAD passed."""
        return all(check.ok for check in self.checks)

    @property
    def risks(self) -> list[Change]:
        """The changes flagged as risks."""
        return [change for change in self.changes if change.risk]


def markdown(review: Review) -> str:
    """The review as a Markdown document."""
    lines = ["## dagsmith review", "", _summary(review), ""]
    by_pipeline: dict[str, list[Change]] = {}
    for change in review.changes:
        by_pipeline.setdefault(change.pipeline, []).append(change)
    for pipeline, found in by_pipeline.items():
        lines += [f"### Pipeline `{pipeline}`", ""]
        lines += [f"- {RISK} {c.text}" if c.risk else f"- {c.text}" for c in found]
        lines.append("")
    lines += ["### Checks on HEAD", "", *_checks(review.checks), ""]
    if review.notes:
        lines += ["### Notes", "", *(f"- {note}" for note in review.notes), ""]
    return "\n".join(lines)


def _summary(review: Review) -> str:
    pipelines = len({change.pipeline for change in review.changes})
    changed = f"{pipelines} pipeline(s) changed" if pipelines else "no pipeline changed"
    risks = len(review.risks)
    flagged = f"{risks} change(s) flagged {RISK}" if risks else "nothing flagged"
    failed = sum(not check.ok for check in review.checks)
    checks = f"**checks failed for {failed} of {len(review.checks)}**" if failed else "checks pass"
    return f"{review.base} -> {review.head}: {changed}, {flagged}, {checks}."


def _checks(checks: list[CheckResult]) -> list[str]:
    if not checks:
        return ["No pipeline specs at HEAD."]
    lines: list[str] = []
    for check in checks:
        dag = f" -> `{check.dag}`" if check.dag else ""
        if check.ok:
            lines.append(f"- ✓ `{check.spec}`{dag}")
            continue
        fence = _fence("\n".join(check.problems))
        lines += [f"- ✗ `{check.spec}`{dag}", "", f"  {fence}text"]
        lines += [f"  {line}" for problem in check.problems for line in problem.splitlines()]
        lines += [f"  {fence}", ""]
    return lines


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
