"""Personal data in a review: a change that loads it in the clear, or stops protecting it,
is a risk; a pull request's risk flags name the columns the profile flags and the spec
leaves clear."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.gitflow.changes import changes
from agent.gitflow.pr_sections import profile_section
from agent.gitflow.risks import risk_flags
from connectors.profiling import profile
from connectors.profiling.resolve import context
from connectors.spec import Pipeline
from connectors.spec.sources import CsvSource
from tests.gitflow.test_review_changes import spec, stream, texts


def _risk(found: dict[str, bool], start: str) -> bool | None:
    """Whether the change whose text starts with `start` is a risk (None: no such change)."""
    return next((risk for text, risk in found.items() if text.startswith(start)), None)


def _typed(columns: dict[str, str], protect: dict[str, Any] | None = None) -> Pipeline:
    def edit(data: dict[str, Any]) -> None:
        stream(data)["transform"]["types"].update(columns)
        if protect is not None:
            stream(data)["transform"]["protect"] = protect

    return spec(edit)


def test_a_column_named_like_personal_data_loaded_in_the_clear_is_a_risk() -> None:
    found = texts(changes(spec(), _typed({"email": "string", "status": "string"})))
    assert _risk(found, "orders: loads column `email` unprotected") is True
    assert not any("`status` unprotected" in text for text in found)
    protected = texts(changes(spec(), _typed({"email": "string"}, {"email": "hash"})))
    assert not any("unprotected" in text for text in protected)
    assert _risk(protected, "orders: protects column `email`: `hash`") is False


def test_no_longer_protecting_a_column_is_a_risk() -> None:
    before = _typed({"email": "string"}, {"email": "hash"})
    after = _typed({"email": "string"})
    found = texts(changes(before, after))
    assert _risk(found, "orders: no longer protects column `email`") is True
    assert _risk(found, "orders: loads column `email` unprotected") is True
    changed = texts(changes(before, _typed({"email": "string"}, {"email": "mask"})))
    assert any("protection of column `email`" in t and risk for t, risk in changed.items())


def test_a_new_stream_with_personal_data_in_the_clear_is_a_risk() -> None:
    def two(data: dict[str, Any]) -> None:
        extra = {**stream(data), "name": "people", "load": {"table": "people"}}
        extra["transform"] = {"types": {"phone": "string"}}
        extra.pop("incremental")
        data["streams"].append(extra)

    found = texts(changes(spec(), spec(two)))
    assert _risk(found, "people: loads column `phone` unprotected") is True


def test_pull_request_flags_profiled_personal_data_left_clear(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(
        "id,email,city\n1,ann@example.com,Paris\n2,bo@example.org,Lyon\n3,cy@example.net,Nice\n"
    )
    found = profile(CsvSource(kind="csv", path="people.csv"), context(tmp_path))

    def people(protect: dict[str, Any]) -> Pipeline:
        return Pipeline.model_validate(
            {
                "pipeline": "people",
                "retries": {"count": 1},
                "alerts": {"on_failure": [{"email": "ops@example.com"}]},
                "streams": [
                    {
                        "name": "people",
                        "source": {"kind": "csv", "path": "people.csv"},
                        "transform": {"protect": protect},
                        "load": {"table": "people"},
                    }
                ],
            }
        )

    flags = risk_flags(people({}), {"people": found}, "not run")
    assert any("loads likely personal data unprotected: email (email on" in f for f in flags)
    assert not any(
        "personal" in f for f in risk_flags(people({"email": "hash"}), {"people": found}, "not run")
    )
    section = profile_section(people({}), {"people": found})
    assert "**personal data loaded unprotected**: `email`" in section
    assert "add `transform.protect: {email: hash}`" in section
    section = profile_section(people({"email": "hash"}), {"people": found})
    assert "protected: `email` hash" in section and "unprotected" not in section


def test_the_rules_a_pull_request_proposes_fit_the_keys(tmp_path: Path) -> None:
    """The proposal is `dagsmith init`'s: a phone is masked, unless it is the upsert key (a
    key can only be hashed)."""
    (tmp_path / "people.csv").write_text(
        "phone,email\n+1 555 123 4567,ann@example.com\n555-987-6543,bo@example.org\n"
        "555-000-1111,cy@example.net\n"
    )
    found = profile(CsvSource(kind="csv", path="people.csv"), context(tmp_path))

    def people(load: dict[str, Any]) -> Pipeline:
        return Pipeline.model_validate(
            {
                "pipeline": "people",
                "streams": [
                    {
                        "name": "people",
                        "source": {"kind": "csv", "path": "people.csv"},
                        "load": {"table": "people", **load},
                    }
                ],
            }
        )

    appended = profile_section(people({}), {"people": found})
    assert "add `transform.protect: {phone: mask, email: hash}`" in appended
    keyed = profile_section(people({"mode": "upsert", "keys": ["phone"]}), {"people": found})
    assert "add `transform.protect: {phone: hash, email: hash}`" in keyed
