"""The harness of the staged incidents: a project folder as a user keeps it (a spec, its
sources, a target database), the `dagsmith` commands run against it, and each incident's
record of what `health` and `diagnose` must say about it.

`dagsmith run`, `health` and `diagnose` run in this process (typer's runner), except where
the process itself is the incident (a full disk, a SIGKILL): there `Project.process`
starts the `dagsmith` command as a user would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from agent.cli.app import app
from tests.conftest import DAGSMITH, Database
from tests.sources_rest.conftest import SECRET, ApiServer

PIPELINE = "shop"
CONNECTION = "incidents_target"
SPEC = f"pipelines/{PIPELINE}.yaml"


@dataclass
class Project:
    """The working folder of `dagsmith`: `pipelines/shop.yaml`, its data, its target."""

    folder: Path
    db: Database
    api: ApiServer
    """A loopback REST API (connection `api`) whose routes the incident sets."""
    name: str
    """The incident's: each run's id is the name and the run's number, the same on every
    staging, so the requests a diagnosis sends a model are too (its cassette replays)."""
    env: dict[str, str] = field(default_factory=dict)
    """What a process started by `process` gets over this one's environment."""
    numbered: int = 0
    """Runs numbered so far."""

    def table(self, name: str) -> str:
        return self.db.table(name)

    def spec(self, streams: str, head: str = "") -> None:
        """The spec: `head` lines, then `streams` (YAML items) with `{table}` filled in."""
        text = f"pipeline: {PIPELINE}\ntarget: {CONNECTION}\n{head}streams:\n"
        text += streams.replace("{table}", self.table("orders"))
        (self.folder / SPEC).write_text(text, encoding="utf-8")

    def data(self, name: str, header: str, rows: Iterable[str]) -> None:
        """A CSV file the next run reads."""
        text = header + "\n" + "".join(f"{row}\n" for row in rows)
        (self.folder / "pipelines" / "data" / name).write_text(text, encoding="utf-8")

    def run(self, *args: str) -> dict[str, Any]:
        """`dagsmith run --json` of the pipeline; the summary of its one stream."""
        if "--run-id" not in args:
            self.numbered += 1
            args = (*args, "--run-id", f"{self.name}_{self.numbered}")
        code, out, err = dagsmith("run", SPEC, "--json", *args)
        summary: dict[str, Any] = json.loads(out)
        assert code == (0 if summary["ok"] else 1), err
        (stream,) = summary["streams"]
        return {"run_id": summary["run_id"], **stream}

    def runs(self, times: int) -> list[dict[str, Any]]:
        """`times` healthy runs, the history an incident breaks."""
        made = [self.run() for _ in range(times)]
        assert all(r["status"] == "ok" for r in made), made
        return made

    def process(
        self, *args: str, preexec: Callable[[], None] | None = None
    ) -> subprocess.Popen[str]:
        """`dagsmith ARGS` in a process of its own, in the project folder."""
        return subprocess.Popen(
            [DAGSMITH, *args],
            cwd=self.folder,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=preexec,
        )

    def failed_checks(self) -> frozenset[str]:
        """The checks `dagsmith health shop --json` failed for the stream."""
        code, out, err = dagsmith("health", PIPELINE, "--json")
        assert code in (0, 1), err
        ((pipeline,),) = [json.loads(out)]
        (stream,) = pipeline["streams"]
        failed = frozenset(c["check"] for c in stream["checks"] if c["status"] == "failed")
        assert (code == 1) == bool(failed), out
        return failed

    def diagnose(self, target: str, model: str) -> dict[str, Any]:
        """`dagsmith diagnose TARGET --json --model M`, which must give a diagnosis."""
        code, out, err = dagsmith("diagnose", target, "--json", "--model", model)
        assert code == 0, err or out
        answer: dict[str, Any] = json.loads(out)
        return answer

    def count(self, where: str = "1 = 1") -> int:
        """Rows of the target table (`where` one of its conditions)."""
        quoted = self.db.engine.dialect.identifier_preparer.format_table(
            sa.table("orders", schema=self.db.schema)
        )
        with self.db.engine.connect() as conn:
            return int(
                conn.execute(sa.text(f"SELECT COUNT(*) FROM {quoted} WHERE {where}")).one()[0]
            )

    def apply(self, diff: str) -> None:
        """Apply a proposed change (a unified diff of the spec) with patch(1), as a user would."""
        done = subprocess.run(
            ["patch", "--forward", "--batch", str(self.folder / SPEC)],
            input=diff,
            text=True,
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def dagsmith(*args: str) -> tuple[int, str, str]:
    """`dagsmith ARGS` in this process: exit code, stdout, stderr; what it raised, raised."""
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


Stage = Callable[[Project], str]
"""Make the healthy history and the incident; returns what to diagnose: the run id that
met it, or the pipeline's name where the incident left no record of its own."""


@dataclass(frozen=True)
class Incident:
    """One staged incident and what must be said about it.

    `health`: the checks `dagsmith health` fails once it happened (None: no record shows
    it). `change`: a pattern the lines of the proposed diff must match (None: no change may
    be proposed; `change_optional`: a change may be proposed or not). `after` checks the
    project once the proposed change is applied, by running it again.
    """

    name: str
    target: str
    """The fixture of the target database: postgres, mariadb or sqlite."""
    stage: Stage
    health: frozenset[str] | None
    finding: str
    change: str | None = None
    change_optional: bool = False
    action: str | None = None
    evidence: str | None = None
    said: str | None = None
    """A pattern `what_happened` must match."""
    run_id: str | None = None
    """The run the diagnosis must name, when `stage` gives the pipeline's name."""
    after: Callable[[Project], None] | None = None
    process: bool = False
    """Whether it starts `dagsmith` processes (a second or more each: marked `cli`)."""
    gap: str | None = None
    """A known gap the incident shows, until fixed: the test is a strict xfail."""


def added_lines(diff: str) -> str:
    """What a unified diff adds, one line each (without the `+`)."""
    return "\n".join(
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    )


def check_diagnosis(incident: Incident, answer: Mapping[str, Any], run_id: str | None) -> None:
    """The diagnosis as the shared contract and the incident's record say it must be."""
    assert set(answer) == {
        "run_id", "pipeline", "stream", "finding", "what_happened", "evidence", "change",
        "action", "model",
    }, answer  # fmt: skip
    assert (answer["pipeline"], answer["finding"]) == (PIPELINE, incident.finding), answer
    assert answer["run_id"] == run_id and answer["stream"] == "orders", answer
    assert answer["what_happened"].strip() and answer["evidence"], answer
    assert SECRET not in json.dumps(answer)
    if incident.said:
        assert re.search(incident.said, answer["what_happened"], re.I), answer["what_happened"]
    if incident.evidence:
        assert any(re.search(incident.evidence, e, re.I) for e in answer["evidence"]), answer
    if incident.action:
        assert re.search(incident.action, answer["action"] or "", re.I), answer["action"]
    change = answer["change"]
    if incident.change is None or (incident.change_optional and change is None):
        assert change is None, change
        return
    assert change is not None and change["checked"] is True, answer
    assert Path(change["spec_path"]).resolve() == Path(SPEC).resolve(), change
    assert re.search(incident.change, added_lines(change["diff"]), re.I), change["diff"]
