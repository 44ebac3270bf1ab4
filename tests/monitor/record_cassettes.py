"""Record the cassettes of `dagsmith diagnose` through the openai: path, against the local
stand-in (`tests/agent/fake_openai.py` answering as the offline monitor model).

    .venv/bin/python -m tests.monitor.record_cassettes

No hosted model answered these: the server is the stand-in on 127.0.0.1, speaking the Chat
Completions wire format, its replies those of `agent.monitor.agent.next_step`. Each
incident is staged for real (runs with fixed run ids into the embedded DuckDB file of a
scratch project), so the requests the agent sends are the same on every replay.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage

from agent.monitor.agent import next_step
from agent.monitor.evidence import locate, spec_files
from agent.monitor.run import Report, diagnose_target
from agent.monitor.tools import MonitorSession
from tests.agent.fake_openai import serving
from tests.agent.record_cassettes import CASSETTES, recorder
from tests.runs.conftest import dagsmith

PORT = 18766
BASE_URL = f"http://127.0.0.1:{PORT}/v1"
MODEL = "openai:gpt-local-stand-in"
HEADER = (
    "# Recorded from a LOCAL STAND-IN, not a hosted model: tests/agent/fake_openai.py on\n"
    "# 127.0.0.1 answering as the offline monitor model (agent.monitor.agent.next_step), in\n"
    "# the OpenAI Chat Completions wire format. Incident: {name}. Re-record:\n"
    "# python -m tests.monitor.record_cassettes\n"
)
SPEC = """pipeline: shop
streams:
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    transform:
      types: {id: bigint, amount: "decimal(10,2)"}
      required: [id]
    load: {table: orders, mode: upsert, keys: [id]}
"""


@dataclass(frozen=True)
class Incident:
    """Files read by each run (fixed run ids), and what the diagnosis must find."""

    name: str
    runs: tuple[str, ...]
    finding: str


INCIDENTS = (
    Incident(
        "diagnose_bad_values",
        ("id,amount\n1,1.50\n2,2.00\n", "id,amount\n3,N/A\n4,n/a\n5,2.50\n"),
        "bad_values",
    ),
    Incident(
        "diagnose_new_column",
        ("id,amount\n1,1.50\n", "id,amount,note\n2,2.00,gift\n"),
        "new_column",
    ),
)


@contextmanager
def incident(case: Incident) -> Iterator[Path]:
    """A scratch project, as the working folder, whose runs staged the incident."""
    before, staging = Path.cwd(), os.environ.get("DAGSMITH_STAGING_URL")
    with tempfile.TemporaryDirectory(prefix="dagsmith-incident-") as tmp:
        folder = Path(tmp)
        (folder / "pipelines" / "data").mkdir(parents=True)
        (folder / "pipelines" / "shop.yaml").write_text(SPEC, encoding="utf-8")
        os.chdir(folder)
        os.environ["DAGSMITH_STAGING_URL"] = str(folder / "staging")
        try:
            for number, data in enumerate(case.runs, start=1):
                (folder / "pipelines" / "data" / "orders.csv").write_text(data, encoding="utf-8")
                dagsmith("run", "pipelines/shop.yaml", "--run-id", f"manual__{case.name}_{number}")
            yield folder
        finally:
            os.chdir(before)
            if staging is None:
                os.environ.pop("DAGSMITH_STAGING_URL", None)
            else:
                os.environ["DAGSMITH_STAGING_URL"] = staging


def stand_in(folder: Path, target: str = "shop") -> Callable[[list[BaseMessage]], AIMessage]:
    """The stand-in's replies: the offline monitor model's, on evidence of its own."""
    sessions: list[MonitorSession] = []

    def answer(messages: list[BaseMessage]) -> AIMessage:
        if not sessions:
            sessions.append(MonitorSession(locate(target, spec_files([], folder), folder)))
        return next_step(sessions[0], messages)

    return answer


def diagnose(folder: Path) -> Report:
    """`dagsmith diagnose shop` on the openai: path."""
    return diagnose_target("shop", [], folder, MODEL)


def record(case: Incident) -> Path:
    """Record one incident's cassette against the stand-in."""
    path = CASSETTES / f"{case.name}.yaml"
    path.unlink(missing_ok=True)
    os.environ.update(OPENAI_BASE_URL=BASE_URL, OPENAI_API_KEY="sk-local-stand-in")
    with (
        incident(case) as folder,
        serving(PORT, answer=stand_in(folder)),
        recorder("all").use_cassette(str(path)),
    ):
        diagnose(folder)
    path.write_text(HEADER.format(name=case.name) + path.read_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:])
    for case in INCIDENTS:
        if not wanted or case.name in wanted:
            print(record(case))
