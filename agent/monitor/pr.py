"""`dagsmith diagnose --pr`: the checked change on a new branch, through `dagsmith pr`'s
own path (the check, the commit of the spec and its DAG, the description), with a
"Diagnosis" section first. The working tree's spec file is left as it was.
"""

from __future__ import annotations

from pathlib import Path

from agent.dags.describe import code, fenced
from agent.gitflow.pr import Echo, PullRequest, open_pull_request
from agent.monitor.run import Report
from connectors.errors import SpecError


def diagnosis_section(report: Report) -> str:
    """Markdown: what happened, the evidence and the action, every fact in a code span."""
    said = report.to_dict()
    lines = [
        "## Diagnosis",
        "",
        f"Finding: `{said['finding']}` (by `dagsmith diagnose`, model `{said['model']}`), "
        f"run {code(said['run_id'] or 'none')} of stream {code(said['stream'])}.",
        "",
        code(said["what_happened"], 600),
        "",
        "Evidence:",
        "",
        *(f"- {code(fact, 400)}" for fact in said["evidence"]),
    ]
    if said["action"]:
        lines += ["", f"Also to do: {code(said['action'], 400)}"]
    if report.proposed is not None:
        lines += [
            "",
            f"Change: {code(report.proposed.summary, 300)}",
            "",
            fenced(report.proposed.diff),
        ]
    return "\n".join(lines) + "\n\n"


def open_diagnosis_pr(
    report: Report, project_dir: Path, dags_dir: Path, open_pr: bool, echo: Echo
) -> PullRequest:
    """Commit the report's checked change (the spec and its DAG) on `dagsmith/fix-<pipeline>-
    <run>`, and open the pull request.

    Raises:
        SpecError: There is no checked change to propose.
        DagsmithError: As `open_pull_request` raises.
    """
    proposed = report.proposed
    if proposed is None or not proposed.checked:
        why = "no spec change" if proposed is None else f"the change failed: {proposed.why}"
        raise SpecError(f"nothing to open a pull request with: {why}")
    path = report.evidence.spec_path
    run = (report.evidence.run_id or "latest").replace(":", "-").replace("+", "-")
    branch = f"dagsmith/fix-{report.evidence.spec.pipeline}-{run}"[:100]
    return open_pull_request(
        [path],
        project_dir=project_dir,
        dags_dir=dags_dir,
        branch=branch,
        open_pr=open_pr,
        echo=echo,
        texts={path: proposed.text},
        preface=diagnosis_section(report),
    )
