"""The audit trail in a pull request: which agent runs wrote its files, and the `pr` step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.audit import trail


def _relative(path: Path, project_dir: Path) -> str:
    resolved, root = path.resolve(), project_dir.resolve()
    return str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(resolved)


def pr_section(project_dir: Path, files: list[Path]) -> str:
    """Markdown listing the agent runs that wrote any of `files`, with the hash of each
    run's last record there, so a reviewer can find them (`dagsmith audit --json`) and
    `dagsmith audit --verify` shows they were not changed since; empty when none did."""
    wanted = {_relative(path, project_dir) for path in files}
    path = trail.trail_path(project_dir)
    records = list(trail.read(path))
    runs = {r["run"] for r in records if wanted & set(r.get("files") or [])}
    if not runs:
        return ""
    rows: dict[str, dict[str, Any]] = {}
    steps: dict[str, int] = {}
    for record in records:
        if record["run"] in runs:
            rows[record["run"]] = record  # the run's last record
            steps[record["run"]] = steps.get(record["run"], 0) + 1
    lines = [
        "",
        "## Audit trail",
        "",
        f"The agent runs that wrote these files, from `{trail.AUDIT_FILE}` (`dagsmith audit`):",
        "",
        "| run | command | by | model | steps | last record |",
        "|---|---|---|---|---|---|",
    ]
    for run, last in rows.items():
        model = f"{last['model']} ({last.get('model_version') or '?'})"
        lines.append(
            f"| `{run}` | {last['command']} | {_cell(last['user'])} | {_cell(model)} | "
            f"{steps[run]} | `{last['hash'][:16]}` ({str(last['time'])[:19]}) |"
        )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: no pipe, no line break, no HTML."""
    return " ".join(str(text).replace("|", "/").replace("<", "&lt;").replace(">", "&gt;").split())


def record_pr(
    project_dir: Path, branch: str, commit: str, url: str | None, files: list[Path]
) -> None:
    """Append the `pr` step: the branch, its commit and pull request, the files it holds."""
    trail.append(
        trail.trail_path(project_dir),
        {
            "command": "pr",
            "run": commit[:12],
            "user": trail.who(),
            "model": None,
            "model_version": None,
            "tool": "open_pull_request",
            "args": json.dumps({"branch": branch}),
            "result": f"commit {commit}; " + (url or "pull request not opened"),
            "status": "ok",
            "spec_before": None,
            "spec_after": None,
            "files": sorted({_relative(path, project_dir) for path in files}),
        },
    )
