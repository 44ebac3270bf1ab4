"""`dagsmith diagnose`: find the run, let the monitor agent read it, and report.

The report is the model's last answer through propose_change (the offline model's is the
deterministic diagnoser's). A model that ends without one gets the diagnoser's, and the
evidence says so. Nothing is written: the change is shown as a diff, or opened as a pull
request by `agent.monitor.pr` when asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.exceptions import ModelError as LangChainModelError

from agent.monitor.agent import monitor_model, run_monitor
from agent.monitor.diagnoser import diagnose
from agent.monitor.evidence import Evidence, locate, spec_files
from agent.monitor.findings import Diagnosis
from agent.monitor.proposal import Proposed, propose
from agent.monitor.tools import MonitorSession, shown
from agent.orchestrator.build import ModelError


@dataclass(frozen=True)
class Report:
    """A diagnosis of one stream run, as `dagsmith diagnose` prints it."""

    evidence: Evidence
    diagnosis: Diagnosis
    proposed: Proposed | None
    model: str

    def to_dict(self) -> dict[str, Any]:
        """The object of `dagsmith diagnose --json`."""
        found, said = self.evidence, self.diagnosis
        return {
            "run_id": found.run_id,
            "pipeline": found.spec.pipeline,
            "stream": found.stream.name,
            "finding": said.finding,
            "what_happened": shown(said.what_happened),
            "evidence": [shown(fact) for fact in said.evidence],
            "change": self.proposed.to_dict() if self.proposed else None,
            "action": shown(said.action) if said.action else None,
            "model": self.model,
        }


def diagnose_target(
    target: str, spec_paths: list[Path], project_dir: Path, model: str | None
) -> Report:
    """Diagnose the run `target` names (a run id, or a pipeline: its latest failed or
    unhealthy stream run).

    Raises:
        SpecError: No spec, an invalid one, or an unknown model.
        RunNotFound: No such run and no such pipeline.
        ModelError: The model failed.
        DagsmithError: A target cannot be read.
    """
    found = locate(target, spec_files(spec_paths, project_dir), project_dir)
    session = MonitorSession(found)
    chat, name = monitor_model(model, session)
    try:
        run_monitor(chat, session)
    except LangChainModelError as exc:
        status = getattr(exc, "status_code", None)
        raise ModelError(
            f"the model failed: {type(exc).__name__}" + (f" (HTTP {status})" if status else ""),
            hint="check the model name, OPENAI_BASE_URL and OPENAI_API_KEY, or use --model offline",
        ) from None
    if session.answers:
        answer = session.answers[-1]
        return Report(found, answer.diagnosis, answer.proposed, name)
    # The model gave no diagnosis: the diagnoser's, said to be so.
    said = diagnose(found)
    said.evidence.append(f"{name} gave no diagnosis: this one is the offline diagnoser's")
    proposed = propose(found, said.change.summary, said.change.sets) if said.change else None
    return Report(found, said, proposed, name)
