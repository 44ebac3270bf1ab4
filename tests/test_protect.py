"""`transform.protect`: no clear value of a protected column reaches the target, the
rejects table, the logs or the text a model reads, through `dagsmith run` (run_pipeline)
into DuckDB and PostgreSQL; keys, errors and the spec's rules around it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
import yaml
from pydantic import ValidationError

from agent.orchestrator.profile_view import agent_summary
from agent.orchestrator.tools import dry_run_text
from agent.workspace import dry_run
from connectors.errors import BadInput, KeyNotConfigured, TransformError
from connectors.profiling import draft, profile
from connectors.profiling.resolve import context
from connectors.runner import run_pipeline
from connectors.spec import dump_spec, parse_spec
from connectors.spec.models import Pipeline, Transform
from connectors.spec.protect import MaskOptions
from connectors.spec.sources import CsvSource
from connectors.transforms.protect import hmac_text, mask_text
from tests.conftest import Cli, Database
from tests.lineage.receiver import receiver

KEY = "k3y-for-tests-0123456789"
OTHER_KEY = "another-key-for-tests-9876"
PEOPLE = """id,Email,phone,ssn,notes,age
1,Alice@Example.com,+1 555 123 4567,123-45-6789,called about her divorce,34
2,bob@example.org,555-987-6543,987-65-4321,allergic to nuts,x41
3,carol@example.net,555-000-1111,111-22-3333,,29
4,,12,,short,50
5,dan@example.com,555-222-3333,222-33-4444,prefers mornings,40,EXTRA
"""
CLEAR = [
    "Alice@Example.com",
    "bob@example.org",
    "carol@example.net",
    "dan@example.com",
    "555 123",
    "555-987",
    "555-000",
    "555-222",
    "123-45-6789",
    "987-65-4321",
    "111-22-3333",
    "222-33-4444",
    "divorce",
    "nuts",
    "mornings",
]
PROTECT = {"email": "hash", "phone": "mask", "ssn": "redact", "notes": "drop"}


def digest(value: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def key_setting(key: str) -> str:
    return json.dumps({"conn_type": "generic", "password": key})


def spec(
    table: str, target: str | None, name: str = "people", protect: dict[str, Any] = PROTECT
) -> Pipeline:
    return Pipeline.model_validate(
        {
            "pipeline": name,
            "target": target,
            "streams": [
                {
                    "name": "people",
                    "source": {"kind": "csv", "path": "people.csv", "ragged": "reject"},
                    "transform": {"types": {"id": "integer", "age": "integer"}, "protect": protect},
                    "load": {"table": table},
                }
            ],
        }
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "people.csv").write_text(PEOPLE)
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting(KEY))
    return tmp_path


def _run(project: Path, pipeline: Pipeline) -> None:
    [result] = run_pipeline(pipeline, base_dir=project, project_dir=project).streams
    assert result.error is None, result.error


def _loaded(db: Database, table: str) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).mappings()
        return [dict(row) for row in rows]


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_protected_columns_never_reach_target_rejects_or_logs(
    kind: str,
    project: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db: Database = request.getfixturevalue(kind)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", db.url.render_as_string(False))
    caplog.set_level(logging.DEBUG)
    _run(project, spec(db.table("people"), "warehouse"))

    rows = _loaded(db, db.table("people"))
    assert [row["id"] for row in rows] == [1, 3, 4]
    assert "notes" not in rows[0]
    assert [row["email"] for row in rows] == [
        digest("Alice@Example.com"),
        digest("carol@example.net"),
        None,
    ]
    assert [row["phone"] for row in rows] == ["***4567", "***1111", "***"]
    assert [row["ssn"] for row in rows] == [None, None, None]

    rejects = {row["row_number"]: row for row in _loaded_rejects(db, db.table("people__rejects"))}
    assert set(rejects) == {2, 5}
    typed = json.loads(str(rejects[2]["raw"]))
    assert typed == {
        "id": "2",
        "Email": digest("bob@example.org"),
        "phone": "***6543",
        "ssn": None,
        "age": "x41",
    }
    assert rejects[2]["reason"] == "column 'age': 'x41' is not a valid integer"
    ragged = json.loads(str(rejects[5]["raw"]))
    # The reader could not split the row: only its protected fields keep a (protected) value.
    assert ragged == {
        "id": None,
        "Email": digest("dan@example.com"),
        "phone": "***3333",
        "ssn": None,
        "age": None,
        "_extra": None,
    }
    stored = json.dumps([rows, [dict(r) for r in rejects.values()]], default=str)
    for clear in CLEAR:
        assert clear not in stored
        assert clear not in caplog.text
    assert KEY not in caplog.text


def _loaded_rejects(db: Database, table: str) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY row_number")).mappings()
        return [dict(row) for row in rows]


def test_no_clear_value_reaches_lineage_events_or_the_cli_log(
    project: Path, dagsmith: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dagsmith -v run` (the most the command logs) with OpenLineage pointed at a real
    receiver: no event and no line of its output holds a protected clear value, the rows it
    rejects included, nor does the FAIL event of a run that rejects too many."""
    document = yaml.safe_load(dump_spec(spec("people", None)))
    (project / "people.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    document["pipeline"] = "strict"
    document["streams"][0]["transform"]["max_rejects"] = 0
    (project / "strict.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(name)
    with receiver() as got:
        env = {"OPENLINEAGE_URL": got.url, "DAGSMITH_LINEAGE_TIMEOUT": "10"}
        ran = dagsmith("-v", "--log-format", "json", "run", "people.yaml", cwd=project, env=env)
        failed = dagsmith("-v", "run", "strict.yaml", cwd=project, env=env)
        events = got.wait_for(4)
    assert ran.returncode == 0, ran.stderr
    # The failure is told once, in the summary (stdout); the log carries the rest.
    assert failed.returncode != 0 and "max_rejects" in failed.stdout
    assert "protect: email hash, phone mask, ssn redact, notes drop" in ran.stderr
    assert "rejected by ragged" in ran.stderr and "rejected by type" in ran.stderr
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "START", "FAIL"]
    said = json.dumps(events) + ran.stdout + ran.stderr + failed.stdout + failed.stderr
    for clear in CLEAR:
        assert clear not in said
    assert KEY not in said


def test_same_key_same_hash_across_pipelines_other_key_other_hash(
    project: Path, duckdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", duckdb.url.render_as_string(False))
    _run(project, spec(duckdb.table("first"), "warehouse", "crm"))
    _run(project, spec(duckdb.table("second"), "warehouse", "billing"))
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting(OTHER_KEY))
    _run(project, spec(duckdb.table("third"), "warehouse", "audit"))
    first, second, third = (
        [row["email"] for row in _loaded(duckdb, duckdb.table(name))]
        for name in ("first", "second", "third")
    )
    assert first == second
    assert third[0] == digest("Alice@Example.com", OTHER_KEY) != first[0]


def test_another_connection_can_hold_the_key(
    project: Path, duckdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_PII_KEY")
    (project / ".env").write_text(f"AIRFLOW_CONN_CRM_PEPPER='{key_setting(OTHER_KEY)}'\n")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", duckdb.url.render_as_string(False))
    protect = {"email": {"hash": {"key": "crm_pepper"}}}
    _run(project, spec(duckdb.table("people"), "warehouse", protect=protect))
    assert _loaded(duckdb, duckdb.table("people"))[0]["email"] == digest(
        "Alice@Example.com", OTHER_KEY
    )


@pytest.mark.parametrize(
    ("setting", "problem"),
    [(None, "is not configured"), (key_setting("short"), "shorter than 16 characters")],
)
def test_a_missing_or_weak_key_fails_before_reading_and_names_the_connection(
    setting: str | None,
    problem: str,
    project: Path,
    duckdb: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if setting is None:
        monkeypatch.delenv("AIRFLOW_CONN_PII_KEY")
    else:
        monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", setting)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", duckdb.url.render_as_string(False))
    [result] = run_pipeline(
        spec(duckdb.table("people"), "warehouse"), base_dir=project, project_dir=project
    ).streams
    # A setting to make: `dagsmith run` exits 2 on it, as on any connection to set.
    assert isinstance(result.error, KeyNotConfigured)
    assert isinstance(result.error, TransformError) and isinstance(result.error, BadInput)
    assert "connection 'pii_key'" in result.error.message and problem in result.error.message
    assert "AIRFLOW_CONN_PII_KEY" in str(result.error.hint)
    assert "short" not in str(result.error).replace("shorter", "")
    assert result.stats.rows_read == 0


def test_a_mask_keeps_the_last_letters_or_digits_not_spaces_or_punctuation() -> None:
    values = pa.array(["+47 412 34 567", "4111 1111 1111 1111", "NO93 8601 1117 947", "12 34"])
    assert mask_text(values, MaskOptions()).to_pylist() == ["***4567", "***1111", "***7947", "***"]
    assert mask_text(values, MaskOptions(keep_last=2)).to_pylist()[3] == "***34"


def test_hash_and_mask_kernels() -> None:
    values = pa.array(["Alice@Example.com", None, "ab", "555-123-4567", "x@y", "élève@école.fr"])
    hashed = hmac_text(values, KEY.encode()).to_pylist()
    assert hashed == [digest(v) if v is not None else None for v in values.to_pylist()]
    assert mask_text(values, MaskOptions()).to_pylist() == [
        "A***@Example.com",
        None,
        "***",
        "***4567",
        "***",
        "é***@école.fr",
    ]
    assert mask_text(values, MaskOptions(keep_last=2, email=False)).to_pylist() == [
        "***om",
        None,
        "***",
        "***67",
        "***",
        "***fr",
    ]
    assert mask_text(values, MaskOptions(keep_last=0, email=False)).to_pylist()[:3] == [
        "***",
        None,
        "***",
    ]


def test_the_short_form_round_trips_and_the_long_forms_parse(tmp_path: Path) -> None:
    text = dump_spec(spec("people", None))
    assert "protect:" in text and "email: hash" in text
    assert parse_spec(text, tmp_path / "p.yaml") == spec("people", None)
    rules = Transform.model_validate(
        {"protect": {"phone": {"mask": {"keep_last": 2}}, "email": {"hash": {"key": "crm"}}}}
    ).protect
    assert rules["phone"].mask.keep_last == 2  # type: ignore[union-attr]
    assert rules["email"].hash.key == "crm"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("transform", "load", "message"),
    [
        ({"types": {"ssn": "integer"}, "protect": {"ssn": "hash"}}, {}, "declare it as string"),
        ({"types": {"notes": "string"}, "protect": {"notes": "drop"}}, {}, "remove its type"),
        ({"protect": {"email": "scramble"}}, {}, "'hash', 'mask', 'redact' or 'drop'"),
        (
            {"protect": {"email": "mask"}},
            {"mode": "upsert", "keys": ["email"]},
            "a load key can be hashed",
        ),
        ({"protect": {"email": "drop"}, "dedupe": {"keys": ["email"]}}, {}, "not dropped"),
    ],
)
def test_rules_that_cannot_hold_are_refused(
    transform: dict[str, Any], load: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Pipeline.model_validate(
            {
                "pipeline": "p",
                "streams": [
                    {
                        "name": "s",
                        "source": {"kind": "csv", "path": "x.csv"},
                        "transform": transform,
                        "load": {"table": "t", **load},
                    }
                ],
            }
        )


def test_a_hashed_email_can_be_an_upsert_key(project: Path, duckdb: Database) -> None:
    pipeline = Pipeline.model_validate(
        {
            "pipeline": "p",
            "target": None,
            "streams": [
                {
                    "name": "s",
                    "source": {"kind": "csv", "path": "people.csv", "ragged": "reject"},
                    "transform": {"protect": {"email": "hash"}, "required": ["email"]},
                    "load": {"table": "people", "mode": "upsert", "keys": ["email"]},
                }
            ],
        }
    )
    _run(project, pipeline)
    _run(project, pipeline)


def test_a_ragged_row_that_stops_the_read_is_not_quoted_when_columns_are_protected(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = yaml.safe_load(dump_spec(spec("people", None)))
    del document["streams"][0]["source"]["ragged"]  # the default: a ragged row stops the read
    [result] = run_pipeline(
        Pipeline.model_validate(document), base_dir=project, project_dir=project
    ).streams
    assert result.error is not None
    assert "data row 5 has 7 fields, expected 6 (not shown" in result.error.message
    for clear in CLEAR:
        assert clear not in result.error.message and clear not in caplog.text
    document["streams"][0]["transform"].pop("protect")
    [plain] = run_pipeline(
        Pipeline.model_validate(document), base_dir=project, project_dir=project
    ).streams
    assert plain.error is not None and "'5,dan@example.com," in plain.error.message


def test_a_protect_rule_naming_no_column_says_which_exist(project: Path) -> None:
    pipeline = spec("people", None, protect={"mail": "hash"})
    [result] = run_pipeline(pipeline, base_dir=project, project_dir=project).streams
    assert isinstance(result.error, TransformError)
    assert "protect: no column 'mail'" in result.error.message
    assert "'email'" in result.error.message


def test_the_model_never_reads_a_personal_value(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile flags personal columns and withholds their values; a dry run of a spec
    that protects them shows only protected values."""
    monkeypatch.chdir(project)
    found = profile(CsvSource(kind="csv", path="people.csv", ragged="pad"), context(project))
    text = agent_summary(found)
    assert "PII" in text and "values withheld" in text
    for clear in CLEAR[:4]:
        assert clear not in text
    result = dry_run(spec("people", None), project, 100)
    shown = dry_run_text(result)
    assert digest("Alice@Example.com")[:20] in shown
    for clear in CLEAR:
        assert clear not in shown


def test_a_dry_run_finds_the_hash_key_kept_in_the_projects_env(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's dry run loads into a scratch folder; the key in `.env` is still found."""
    monkeypatch.delenv("AIRFLOW_CONN_PII_KEY")
    (project / ".env").write_text(f"AIRFLOW_CONN_PII_KEY='{key_setting(KEY)}'\n")
    shown = dry_run_text(dry_run(spec("people", None), project, 100))
    assert digest("Alice@Example.com")[:20] in shown


MEMBERS = """member_id,first_name,last_name,email_address,mobile,home_phone,birth_date,city
5001,Hana,Novak,hana.novak@seznam.cz,+420 601 123 456,4155550101,1990-01-02,Brno
5002,Olu,Adeyemi,olu.adeyemi@gmail.com,+44 7700 900123,4155550102,1985-03-04,Leeds
5003,Marta,Kowalska,marta.k@wp.pl,+48 512 345 678,4155550103,1979-05-06,Gdansk
5004,Emil,Lund,emil.lund@telia.se,+46 70 123 45 67,4155550104,2001-07-08,Uppsala
"""


def test_the_line_init_suggests_holds_when_pasted_into_its_spec(
    project: Path, duckdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every column is required (no nulls in a fully read file): the suggestion keeps a
    value in each (hashed, not redacted), and the draft types hashed and masked columns as
    text (`home_phone` holds digits only), so the line validates and runs as written."""
    (project / "members.csv").write_text(MEMBERS)
    found = profile(CsvSource(kind="csv", path="members.csv"), context(project))
    drafted = draft.pipeline(found, "members", duckdb.table("members"), "warehouse")
    assert set(drafted.streams[0].transform.required) >= {"first_name", "birth_date"}
    line = drafted.description.split("add transform.protect: ")[1].split(" (or draft")[0]
    document = yaml.safe_load(dump_spec(drafted))
    document["streams"][0]["transform"]["protect"] = yaml.safe_load(line)
    pasted = Pipeline.model_validate(document)
    assert pasted.streams[0].transform.protect == {
        "first_name": "hash",
        "last_name": "hash",
        "email_address": "hash",
        "mobile": "mask",
        "home_phone": "mask",
        "birth_date": "hash",
    }
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", duckdb.url.render_as_string(False))
    _run(project, pasted)
    first = duckdb.rows(duckdb.table("members"))[0]
    assert first[:6] == (
        5001, digest("Hana"), digest("Novak"), digest("hana.novak@seznam.cz"), "***3456", "***0101"
    )  # fmt: skip


def test_what_build_and_a_pull_request_propose_holds_in_the_stream_as_written(
    project: Path,
) -> None:
    (project / "members.csv").write_text(MEMBERS)
    found = profile(CsvSource(kind="csv", path="members.csv"), context(project))
    stream = {
        "name": "members",
        "source": {"kind": "csv", "path": "members.csv"},
        "transform": {"types": {"home_phone": "bigint"}, "required": ["first_name"]},
        "load": {"table": "members", "mode": "upsert", "keys": ["mobile"]},
    }
    document = {"pipeline": "members", "streams": [stream]}
    proposed = draft.stream_proposals(Pipeline.model_validate(document).streams[0], found)
    # Required: hashed, not redacted; a key: hashed; typed bigint: redacted, not masked.
    assert proposed == {
        "first_name": "hash",
        "last_name": "redact",
        "email_address": "hash",
        "mobile": "hash",
        "home_phone": "redact",
        "birth_date": "redact",
    }
    stream["transform"]["protect"] = proposed
    Pipeline.model_validate(document)


def test_init_proposes_protection_off_by_default_and_writes_it_on_request(project: Path) -> None:
    found = profile(CsvSource(kind="csv", path="people.csv", ragged="pad"), context(project))
    plain = draft.pipeline(found, "people")
    assert plain.streams[0].transform.protect == {}
    assert "Likely personal data, NOT protected: email, phone, ssn" in plain.description
    assert "transform.protect: {email: hash, phone: mask, ssn: hash}" in plain.description
    protected = draft.pipeline(found, "people", protect=True)
    assert protected.streams[0].transform.protect == {
        "email": "hash",
        "phone": "mask",
        "ssn": "hash",
    }
    assert protected.streams[0].transform.types["phone"].name == "string"
