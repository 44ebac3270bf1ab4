"""Record the OpenAI-path cassettes against the local stand-in (`tests/agent/fake_openai.py`).

    .venv/bin/python -m tests.agent.record_cassettes

No hosted model is reachable where these were made: the server that answered is the
stand-in on 127.0.0.1, speaking the Chat Completions wire format. To record against a
real endpoint, run a build with vcrpy in `record_mode="all"` and these same settings
(`recorder`), with OPENAI_BASE_URL and OPENAI_API_KEY set to it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vcr

from agent.orchestrator.agent import Outcome
from agent.orchestrator.build import build_pipeline
from tests.agent.fake_openai import serving

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"
PORT = 18765
BASE_URL = f"http://127.0.0.1:{PORT}/v1"
MODEL = "openai:gpt-local-stand-in"
HEADER = (
    "# Recorded from a LOCAL STAND-IN, not a hosted model: tests/agent/fake_openai.py on\n"
    "# 127.0.0.1, which answers in the OpenAI Chat Completions wire format with the offline\n"
    "# planner's steps. Scenario: {name}. Re-record: python -m tests.agent.record_cassettes\n"
)
HAND_WRITTEN = (
    "# HAND-WRITTEN model behaviour '{behaviour}': the model's mistakes were scripted by hand\n"
    "# in tests/agent/model_mistakes.py; no model, hosted or local, chose them.\n"
)
UPSERT = "load examples/data/orders.csv into orders, upsert on order_id"


@dataclass(frozen=True)
class Scenario:
    """One cassette: the request, how the stand-in behaves, and how the build must end.

    `errors` are the tools whose answers were errors, in order; `failure` is the step
    `failed_check` names when the build must end in a clear error instead of a spec.
    """

    name: str
    text: str
    rate_limit_first: bool = False
    behaviour: str | None = None
    errors: tuple[str, ...] = ()
    failure: str | None = None


SCENARIOS = (
    Scenario(
        "openai_build",
        "Every day at 06:00 load examples/data/orders.csv into table orders, upsert on "
        "order_id, rename OrderID to order_id, drop rows without customer_id",
        rate_limit_first=True,
    ),
    Scenario("openai_tool_error", UPSERT, behaviour="missing_keys", errors=("validate_spec",)),
    Scenario(
        "model_misnames_a_field", UPSERT, behaviour="misnamed_field", errors=("validate_spec",)
    ),
    Scenario("model_omits_a_field", UPSERT, behaviour="missing_field", errors=("validate_spec",)),
    Scenario("model_answers_in_prose", UPSERT, behaviour="prose"),
    Scenario(
        "model_sends_wrong_arguments",
        UPSERT,
        behaviour="wrong_arguments",
        errors=("validate_spec",),
    ),
    Scenario(
        "model_fails_dry_run_then_fixes",
        UPSERT,
        behaviour="dry_run_fails_then_fixed",
        errors=("dry_run", "dry_run"),
    ),
    Scenario(
        "model_always_fails_dry_run",
        UPSERT,
        behaviour="dry_run_always_fails",
        # Six failed dry runs, then every check refuses a seventh call, until the budget ends.
        errors=("dry_run",) * 6 + ("validate_spec", "render_dag", "dry_run", "validate_spec"),
        failure="dry_run",
    ),
    Scenario(
        "model_loops",
        UPSERT,
        behaviour="loop",
        errors=("profile_source",) * 18,
        failure="budget",
    ),
)


def recorder(mode: str) -> vcr.VCR:
    """vcrpy as the cassettes use it: credentials filtered, request bodies matched."""
    made = vcr.VCR(
        record_mode=mode,
        match_on=["method", "scheme", "host", "port", "path", "query", "agent_body"],
        filter_headers=["authorization", "api-key", "x-api-key", "openai-organization"],
        decode_compressed_response=True,
    )
    made.register_matcher("agent_body", same_agent_body)
    return made


def same_agent_body(recorded: Any, sent: Any) -> None:
    """Bodies match exactly, except each tool result, compared by its outcome (ok or error).

    A tool's text is the library's output, made afresh on replay and tested elsewhere; the
    cassette pins what the agent sends (prompt, tools, user text, the model's calls), so a
    new line in a profile summary does not force a re-recording.
    """
    assert _agent_view(recorded.body) == _agent_view(sent.body)


def _agent_view(body: bytes | str | None) -> Any:
    data = json.loads(body or "{}")
    for message in data.get("messages", []):
        if message.get("role") == "tool":
            message["content"] = str(message["content"]).startswith("error")
    return data


@contextmanager
def project() -> Iterator[Path]:
    """A scratch copy of the example project, as the working folder."""
    before = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="dagsmith-cassette-") as tmp:
        shutil.copytree(ROOT / "examples", Path(tmp) / "examples")
        os.chdir(tmp)
        try:
            yield Path(tmp)
        finally:
            os.chdir(before)


def build(scenario: Scenario, folder: Path) -> Outcome:
    """Run `dagsmith build` for a scenario on the openai: path."""
    return build_pipeline(
        scenario.text,
        model=MODEL,
        project_dir=folder,
        out_dir=Path("."),
        consent=False,
        show=lambda step: None,
    )


def record(scenario: Scenario) -> Path:
    """Record one scenario's cassette against the stand-in."""
    path = CASSETTES / f"{scenario.name}.yaml"
    path.unlink(missing_ok=True)
    os.environ.update(OPENAI_BASE_URL=BASE_URL, OPENAI_API_KEY="sk-local-stand-in")
    with (
        serving(PORT, scenario.rate_limit_first, scenario.behaviour),
        project() as folder,
        recorder("all").use_cassette(str(path)),
    ):
        build(scenario, folder)
    header = HEADER.format(name=scenario.name)
    if scenario.behaviour:
        header = HAND_WRITTEN.format(behaviour=scenario.behaviour) + header
    path.write_text(header + path.read_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:])
    for item in SCENARIOS:
        if not wanted or item.name in wanted:
            print(record(item))
