"""The openai: model path: cassettes replayed with vcrpy, and a canary-secret scan.

The cassettes in cassettes/ were recorded from the local stand-in server
(tests/agent/fake_openai.py), not from a hosted model; see tests/agent/record_cassettes.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.build import ModelError, build_pipeline, saved_paths
from agent.orchestrator import Outcome
from tests.agent.fake_openai import serving
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
def test_cassette_replays_a_full_build(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-replay")
    cassette_path = CASSETTES / f"{scenario.name}.yaml"
    assert cassette_path.read_text().startswith("# Recorded from a LOCAL STAND-IN")
    with project() as folder, recorder("none").use_cassette(str(cassette_path)) as cassette:
        outcome = build(scenario, folder)
        assert cassette.all_played
        assert saved_paths(outcome) == [Path("pipelines/orders.yaml"), Path("dags/orders.py")]
        assert (folder / "dags" / "orders.py").is_file()
    errors = [step.name for step in outcome.steps if step.kind == "error"]
    assert errors == (["validate_spec"] if scenario.mistake else [])
    assert (cassette.responses[0]["status"]["code"] == 429) is scenario.rate_limit_first


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
