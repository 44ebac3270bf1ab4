"""The openai: model path: cassettes replayed with vcrpy, and a canary-secret scan.

The cassettes in cassettes/ were recorded from the local stand-in server
(tests/agent/fake_openai.py), not from a hosted model; see tests/agent/record_cassettes.py.
Those of an imperfect model play mistakes written by hand (tests/agent/model_mistakes.py):
a misnamed or missing field, prose, wrong arguments, a loop, specs that fail the dry run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.orchestrator.agent import MAX_MODEL_CALLS, NUDGE, Outcome, Step
from agent.orchestrator.build import ModelError, build_pipeline, failed_check, saved_paths
from tests.agent.fake_openai import serving
from tests.agent.model_mistakes import PROSE
from tests.agent.record_cassettes import (
    BASE_URL,
    CASSETTES,
    MODEL,
    SCENARIOS,
    Scenario,
    build,
    project,
    recorder,
)

CANARIES = ("canary-env-7f3a91", "canary-dotenv-c0ffee", "sk-canary-key-5e1d")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_cassette_replays_a_build(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ends in a saved, dry-run-checked spec or a clear error, within the call budget."""
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-replay")
    cassette_path = CASSETTES / f"{scenario.name}.yaml"
    header = cassette_path.read_text()[:600]
    assert "# Recorded from a LOCAL STAND-IN" in header
    assert ("# HAND-WRITTEN model behaviour" in header) is (scenario.behaviour is not None)
    with project() as folder, recorder("none").use_cassette(str(cassette_path)) as cassette:
        outcome = build(scenario, folder)
        assert cassette.all_played
        failure = failed_check(outcome)
        if scenario.failure is None:
            assert failure is None
            assert saved_paths(outcome) == [Path("pipelines/orders.yaml"), Path("dags/orders.py")]
            assert (folder / "dags" / "orders.py").is_file()
            assert outcome.steps[-2].name == "save_pipeline"
            dry_runs = [s for s in outcome.steps if s.name == "dry_run" and s.kind != "call"]
            assert dry_runs[-1].kind == "result"  # the saved spec passed its dry run
        else:
            assert failure is not None and failure.step == scenario.failure
            assert saved_paths(outcome) is None
            assert not (folder / "pipelines").exists() and not (folder / "dags").exists()
    errors = [step.name for step in outcome.steps if step.kind == "error"]
    assert errors == list(scenario.errors)
    assert outcome.model_calls <= MAX_MODEL_CALLS + 1  # +1: the limit's own closing message
    assert (cassette.responses[0]["status"]["code"] == 429) is scenario.rate_limit_first


def test_a_model_that_fails_its_dry_run_is_told_why_and_fixes_the_spec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-replay")
    scenario = next(s for s in SCENARIOS if s.name == "model_fails_dry_run_then_fixes")
    with (
        project() as folder,
        recorder("none").use_cassette(str(CASSETTES / f"{scenario.name}.yaml")),
    ):
        outcome = build(scenario, folder)
        saved = (folder / "pipelines" / "orders.yaml").read_text()
    answers = [s.text for s in outcome.steps if s.name == "dry_run" and s.kind != "call"]
    assert len(answers) == 3  # the first attempt and two more
    assert "key column(s) not in the extract: orderid" in answers[0]
    assert "key column(s) not in the extract: order_no" in answers[1]
    assert answers[2].startswith("Dry run on a sample") and "status ok" in answers[2]
    assert "keys:\n    - order_id" in saved


def test_a_model_that_never_passes_its_dry_run_saves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-replay")
    scenario = next(s for s in SCENARIOS if s.name == "model_always_fails_dry_run")
    with (
        project() as folder,
        recorder("none").use_cassette(str(CASSETTES / f"{scenario.name}.yaml")),
    ):
        failure = failed_check(build(scenario, folder))
    assert failure is not None and failure.step == "dry_run"
    assert "the dry run failed for orders" in failure.why and "(after 6 attempts)" in failure.why
    assert "key column(s) not in the extract" in failure.why


def test_prose_instead_of_a_tool_call_gets_one_nudge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-replay")
    scenario = next(s for s in SCENARIOS if s.name == "model_answers_in_prose")
    with (
        project() as folder,
        recorder("none").use_cassette(str(CASSETTES / f"{scenario.name}.yaml")) as cassette,
    ):
        outcome = build(scenario, folder)
    assert outcome.steps[0] == Step("reply", "", PROSE)
    assert NUDGE in cassette.requests[1].body.decode()


def test_no_secret_reaches_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = {"conn_type": "sqlite", "host": "warehouse.db", "password": CANARIES[0]}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(warehouse))
    monkeypatch.setenv("OPENAI_API_KEY", CANARIES[2])
    with serving() as server, project() as folder:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        (folder / ".env").write_text(
            f"AIRFLOW_CONN_SHOP=postgresql://shop:{CANARIES[1]}@127.0.0.1:1/shop\n"
        )
        # The shop database refuses the connection: its error goes back to the model.
        failed = _build("read table customers on connection shop into customers", folder)
        assert [step.name for step in failed.steps if step.kind == "error"] == ["profile_source"]
        built = _build(
            "load examples/data/orders.csv into orders on warehouse, upsert on order_id", folder
        )
        assert saved_paths(built) is not None
    assert len(server.bodies) >= 8
    sent = b"\n".join(server.bodies).decode()
    for canary in CANARIES:
        assert canary not in sent
    assert "warehouse" in sent  # the target is named, by id only


def _build(text: str, folder: Path) -> Outcome:
    return build_pipeline(
        text, model=MODEL, project_dir=folder, out_dir=Path("."), consent=False, show=print
    )


def test_an_unreachable_model_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("OPENAI_API_KEY", CANARIES[2])
    with project() as folder, pytest.raises(ModelError) as caught:
        _build("load examples/data/orders.csv into orders", folder)
    assert "ConnectionError" in str(caught.value)
    assert CANARIES[2] not in str(caught.value)
