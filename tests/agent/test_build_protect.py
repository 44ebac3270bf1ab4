"""`dagsmith build` and personal data: protection proposed for the columns the profile
flags (off by default, in the spec's description and the pull request), written when the
request asks for it, and no value of a protected or flagged column in what the model reads."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pytest
import yaml
from rich.console import Console

from agent.gitflow.pr import open_pull_request
from agent.orchestrator.agent import Outcome
from agent.orchestrator.build import build_pipeline, printer, saved_paths
from connectors.runner import run_pipeline
from connectors.spec import load_spec
from tests.agent.fake_openai import serving
from tests.agent.record_cassettes import MODEL
from tests.gitflow.conftest import commit_all, git
from tests.test_protect import CLEAR, KEY, PEOPLE, digest, key_setting

PROPOSED = "transform.protect: {email: hash, phone: mask, ssn: hash}"
TIDY = PEOPLE.replace(",40,EXTRA", ",40")
"""The people, without the row that has a field too many."""


@pytest.fixture
def people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding people.csv (and ragged.csv, with a row of 7 fields), as the
    working folder; the hash key is set."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "Dev")
    git(tmp_path, "config", "commit.gpgsign", "false")
    (tmp_path / ".gitignore").write_text(".dagsmith/\n", encoding="utf-8")
    (tmp_path / "people.csv").write_text(TIDY, encoding="utf-8")
    (tmp_path / "ragged.csv").write_text(PEOPLE, encoding="utf-8")
    commit_all(tmp_path, "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting(KEY))
    return tmp_path


def build(
    text: str, folder: Path, model: str = "offline", shown: io.StringIO | None = None
) -> Outcome:
    console = Console(file=shown or io.StringIO(), width=300)
    return build_pipeline(
        text,
        model=model,
        project_dir=folder,
        out_dir=Path("."),
        consent=False,
        show=printer(console),
    )


def built(text: str, folder: Path, shown: io.StringIO | None = None) -> None:
    outcome = build(text, folder, shown=shown)
    assert saved_paths(outcome) is not None, outcome.reply


def test_build_proposes_protection_off_by_default_in_the_spec_and_the_pull_request(
    people: Path,
) -> None:
    shown = io.StringIO()
    built("load people.csv into people every day", people, shown=shown)
    spec = load_spec(people / "pipelines" / "people.yaml")
    assert spec.streams[0].transform.protect == {}
    assert "Likely personal data, NOT protected: email, phone, ssn" in spec.description
    assert f"add {PROPOSED} (or ask for it: 'protect personal data')" in spec.description
    assert "! likely personal data loaded unprotected: email, phone, ssn" in shown.getvalue()

    made = open_pull_request(
        [Path("pipelines/people.yaml")],
        project_dir=people,
        dags_dir=Path("dags"),
        open_pr=False,
        echo=lambda _: None,
    )
    body = made.body_path.read_text(encoding="utf-8")
    assert "**personal data loaded unprotected**: `email`, `phone`, `ssn`" in body
    assert f"add `{PROPOSED}`" in body
    assert "`people` loads likely personal data unprotected: email (" in body
    for clear in CLEAR:
        assert clear not in body


def test_asked_for_the_proposed_protection_is_written_checked_and_run(people: Path) -> None:
    built("load people.csv into people, upsert on phone, protect personal data", people)
    document = yaml.safe_load((people / "pipelines" / "people.yaml").read_text())
    transform = document["streams"][0]["transform"]
    # A key can only be hashed; hashed and masked columns are text.
    assert transform["protect"] == {"email": "hash", "phone": "hash", "ssn": "hash"}
    assert {transform["types"][c] for c in ("email", "phone", "ssn")} == {"string"}
    assert "NOT protected" not in document["description"]

    spec = load_spec(people / "pipelines" / "people.yaml")
    summary = run_pipeline(spec, base_dir=people / "pipelines", project_dir=people)
    assert summary.ok, summary.to_dict()
    warehouse = people / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        emails = {row[0] for row in conn.execute("SELECT email FROM people").fetchall()}
        stored = str(conn.execute("SELECT * FROM people").fetchall())
        stored += str(conn.execute("SELECT * FROM people__rejects").fetchall())
    assert digest("Alice@Example.com") in emails
    for clear in CLEAR[:12]:  # notes are not personal data by the profile: not protected
        assert clear not in stored


def test_a_column_named_for_protection_is_protected_as_said(people: Path) -> None:
    built(
        "load people.csv into people, hash the id column, mask phone numbers and null out notes",
        people,
    )
    transform = load_spec(people / "pipelines" / "people.yaml").streams[0].transform
    assert {column: str(rule) for column, rule in transform.protect.items()} == {
        "id": "hash",
        "phone": "mask",
        "notes": "redact",
    }
    assert transform.types["id"].name == "string"  # profiled as integer, hashed into text


def test_no_protected_or_flagged_value_reaches_the_model(
    people: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request body sent to an OpenAI-compatible server holds no value of a column the
    request protects (notes, which the profile does not flag, included), nor of a column
    the profile flags and the spec leaves clear (ssn); nor does a reader's error quote a row
    of a stream that protects columns."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    protect = "hash the email column, mask phone numbers and null out notes"
    with serving() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        tidy = build(f"load people.csv into people, {protect}", people, MODEL)
        ragged = build(f"load ragged.csv into people_raw, {protect}", people, MODEL)
    assert saved_paths(tidy) is not None, tidy.reply
    assert saved_paths(ragged) is None
    sent = b"\n".join(server.bodies).decode()
    assert "PII (" in sent and "values withheld (the user asks to protect it)" in sent
    assert "ssn=(withheld: personal data)" in sent
    assert "data row 5 has 7 fields, expected 6 (not shown: the stream protects" in sent
    assert "x41" in sent  # values of other columns do reach the model
    for clear in CLEAR:
        assert clear not in sent
    spec = load_spec(people / "pipelines" / "people.yaml")
    assert "NOT protected: ssn" in spec.description
