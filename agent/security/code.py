"""Ruff's security rules (`S`, its port of bandit) on Python files or texts.

Ruff runs as its own binary (the `ruff` package, pinned in the lock) with `--isolated`, so a
project's own ruff settings can neither switch a rule off nor add one: the project's code in
CI and a user's generated DAGs in `dagsmith check` meet the same rules. Bandit would add a
second dependency and an in-process AST pass several times slower for the same rule set.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from agent.security.accepted import Accepted, CodeEntry
from connectors.errors import TerminalError

RULES = "S"
_TIMEOUT_S = 120


class CodeCheckError(TerminalError):
    """Ruff could not be run, or answered something that is not its JSON report."""


@dataclass(frozen=True)
class Finding:
    """One rule broken at one place."""

    rule: str
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message}"


def ruff_binary() -> str:
    """The ruff executable of this installation."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        raise CodeCheckError(
            "ruff is not installed: it runs the code checks", hint="pip install 'dagsmith[agent]'"
        ) from None
    return str(find_ruff_bin())


def scan_paths(paths: list[Path], root: Path) -> list[Finding]:
    """Findings in the Python files under `paths`, their paths relative to `root`."""
    return _run([*(str(path) for path in paths)], None, root)


def scan_text(text: str, path: Path, root: Path) -> list[Finding]:
    """Findings in one file's text, as if it were at `path`; `# noqa` comments count for
    nothing (a generated file has none, so one there was added by hand)."""
    return _run(["--ignore-noqa", "--stdin-filename", str(path), "-"], text, root)


def dag_problems(text: str, path: Path) -> list[str]:
    """The security findings in a DAG file's text, as `dagsmith check` problems.

    A generated DAG has none and none is accepted: code comes only from the templates.
    """
    return [
        f"{finding} (ruff's security rules; a generated DAG has no such code)"
        for finding in scan_text(text, path, Path.cwd())
    ]


def _run(args: list[str], stdin: str | None, root: Path) -> list[Finding]:
    command = [ruff_binary(), "check", "--isolated", "--select", RULES, "--target-version",
               "py311", "--output-format", "json", "--exit-zero", "--no-cache", *args]  # fmt: skip
    # An argument list, never a shell; the binary is the one installed beside this package.
    done = subprocess.run(  # noqa: S603
        command, input=stdin, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise CodeCheckError(f"ruff failed: {done.stderr.strip()[:500]}") from None
    return [
        Finding(
            item["code"] or "syntax",
            _relative(Path(item["filename"]), root),
            item["location"]["row"],
            item["message"],
        )
        for item in report
    ]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass(frozen=True)
class Verdict:
    """Findings split into those the list accepts and those it does not."""

    refused: list[Finding]
    accepted: list[tuple[Finding, CodeEntry]]
    notes: list[str]


def judge(findings: list[Finding], accepted: Accepted) -> Verdict:
    """Match each finding to the first entry that accepts it, within the entry's count.

    Past an entry's count, the extra findings of that entry are refused; an entry that
    accepts fewer findings than its count gets a note, so the list tightens as code improves.
    """
    refused: list[Finding] = []
    matched: list[tuple[Finding, CodeEntry]] = []
    used: Counter[CodeEntry] = Counter()
    for finding in findings:
        entry = next((e for e in accepted.code if e.matches(finding.rule, finding.path)), None)
        if entry is None:
            refused.append(finding)
            continue
        used[entry] += 1
        matched.append((finding, entry))
    notes: list[str] = []
    for entry in accepted.code:
        if entry.count is None or used[entry] == entry.count:
            continue
        if used[entry] > entry.count:
            extra = [f for f, e in matched if e == entry][entry.count :]
            refused += extra
            matched = [(f, e) for f, e in matched if f not in extra]
            notes.append(
                f"{entry.rule} in {entry.path}: {used[entry]} findings, {entry.count} accepted: "
                "review the new ones, then fix them or raise the count"
            )
        else:
            notes.append(
                f"{entry.rule} in {entry.path}: {used[entry]} findings, {entry.count} "
                "accepted: lower the count"
            )
    return Verdict(refused, matched, notes)
