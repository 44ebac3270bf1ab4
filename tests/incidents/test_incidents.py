"""The staged incidents (tests/incidents/incidents.py), each met by a real run: what
`dagsmith health` fails, then what `dagsmith diagnose` finds, proposes and asks of a person,
with the offline model, then on the openai: path (cassettes); then the proposed change,
applied with patch(1), must make the next run load what the incident stopped.

The openai: cassettes were recorded from the local stand-in (tests/agent/fake_openai.py
answering as the offline monitor model), not from a hosted model. Re-record them with

    DAGSMITH_RECORD_INCIDENTS=1 .venv/bin/pytest -n 0 tests/incidents
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.agent.fake_openai import serving
from tests.agent.record_cassettes import CASSETTES, recorder
from tests.incidents.harness import Incident, Project, check_diagnosis
from tests.incidents.incidents import INCIDENTS
from tests.monitor.record_cassettes import stand_in

FOLDER = CASSETTES / "incidents"
PORT = 18767
OPENAI = "openai:gpt-local-stand-in"
HEADER = (
    "# Recorded from a LOCAL STAND-IN, not a hosted model: tests/agent/fake_openai.py on\n"
    "# 127.0.0.1 answering as the offline monitor model (agent.monitor.agent.next_step), in\n"
    "# the OpenAI Chat Completions wire format. Staged incident: {name}. Re-record:\n"
    "# DAGSMITH_RECORD_INCIDENTS=1 .venv/bin/pytest -n 0 tests/incidents\n"
)
RECORDING = os.environ.get("DAGSMITH_RECORD_INCIDENTS") == "1"


def cases() -> Iterator[Any]:
    """Each incident, marked with what it needs; each takes seconds (`slow`)."""
    for incident in INCIDENTS:
        marks = [pytest.mark.slow]
        if incident.target != "sqlite":
            marks.append(getattr(pytest.mark, incident.target))
        if incident.process:
            marks.append(pytest.mark.cli)
        if incident.gap:
            marks.append(pytest.mark.xfail(reason=incident.gap, strict=True))
        yield pytest.param(incident, marks=marks, id=incident.name)


def cassette(mode: str, path: Path) -> Any:
    """The incident's cassette, through the recorder of tests.agent's cassettes, with only
    the requests to the model: the loopback API the source reads is served live."""
    return recorder(mode).use_cassette(
        str(path),
        before_record_request=lambda request: request if f":{PORT}/" in request.uri else None,
    )


@contextmanager
def through_cassette(
    incident: Incident, project: Project, target: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The openai: path's requests answered from the incident's cassette (or, recording,
    by the stand-in); the requests match the recorded ones, each tool's answer by its
    outcome only (`tests.agent.record_cassettes.recorder`)."""
    path = FOLDER / f"{incident.name}.yaml"
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{PORT}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-stand-in")
    if not RECORDING:
        assert path.read_text().startswith("# Recorded from a LOCAL STAND-IN")
        with cassette("none", path) as played:
            yield
        assert played.all_played
        return
    FOLDER.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    with (
        serving(PORT, answer=stand_in(project.folder, target)),
        cassette("all", path),
    ):
        yield
    path.write_text(HEADER.format(name=incident.name) + path.read_text(), encoding="utf-8")


@pytest.mark.parametrize("incident", list(cases()))
def test_incident(
    incident: Incident, project_on: Callable[[str, str], Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_on(incident.target, incident.name)

    target = incident.stage(project)

    if incident.health is not None:
        assert project.failed_checks() == incident.health
    offline = project.diagnose(target, "offline")
    with through_cassette(incident, project, target, monkeypatch):
        hosted = project.diagnose(target, OPENAI)
    for model, answer in (("offline", offline), (OPENAI, hosted)):
        assert answer["model"] == model
        check_diagnosis(incident, answer, incident.run_id or target)
    if offline["change"] is not None:
        assert hosted["change"] == offline["change"]  # the stand-in answers as offline does
        project.apply(offline["change"]["diff"])
    if incident.after:
        incident.after(project)
