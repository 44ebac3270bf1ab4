"""The planner reads protection of personal data: a column's rule as said, or the rules
`dagsmith init --protect` proposes for the columns the profile flags ("protect personal
data"); a protection it cannot place is a question."""

from __future__ import annotations

from typing import Any

import pytest

from agent.planner import Column, Facts, plan
from agent.planner.protect import protected_in
from connectors.spec.io import to_plain

PEOPLE: Facts = {
    "id": Column("id", "integer"),
    "email": Column("email", "string", protect="hash"),
    "phone_number": Column("phone_number", "string", protect="mask"),
    "ssn": Column("ssn", "string", protect="hash"),
    "first_name": Column("first_name", "string", protect="redact"),
    "notes": Column("notes", "string"),
    "updated_at": Column("updated_at", "timestamp"),
}
FLAGGED = {"email": "hash", "phone_number": "mask", "ssn": "hash", "first_name": "redact"}
MEMBERS: Facts = {
    "member_id": Column("member_id", "integer"),
    "first_name": Column("first_name", "string", protect="redact"),
    "last_name": Column("last_name", "string", protect="redact"),
    "email_address": Column("email_address", "string", protect="hash", pii=("email",)),
    "mobile": Column("mobile", "string", protect="mask", pii=("phone",)),
    "city": Column("city", "string"),
}
"""Columns named as people name them: the words of a request point at them."""
ALL_MEMBERS = {"first_name": "redact", "last_name": "redact", "email_address": "hash",
               "mobile": "mask"}  # fmt: skip


def planned(text: str, facts: Facts | None = PEOPLE) -> tuple[dict[str, Any] | None, list[str]]:
    found = plan(text, None, {"people.csv": facts} if facts else None)
    spec = to_plain(found.spec)["streams"][0] if found.spec is not None else None
    return spec, found.questions


def protect_of(text: str) -> dict[str, str]:
    stream, questions = planned(text)
    assert stream is not None, questions
    return dict(stream["transform"]["protect"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("load people.csv into crm.people, hash the email column and mask phone numbers",
         {"email": "hash", "phone_number": "mask"}),
        ("Hash email and ssn, redact first_name; load people.csv into people",
         {"email": "hash", "ssn": "hash", "first_name": "redact"}),
        ("load people.csv into people; emails should be hashed and the ssn column redacted",
         {"email": "hash", "ssn": "redact"}),
        ("load people.csv into people with email pseudonymized and notes nulled out",
         {"email": "hash", "notes": "redact"}),
        ("load people.csv into people and protect the phone number", {"phone_number": "mask"}),
        ("load people.csv into people, protect personal data", FLAGGED),
        ("Anonymize the PII in people.csv and load it into people", FLAGGED),
        ("load people.csv into people with the personal data masked",
         dict.fromkeys(FLAGGED, "mask")),
    ],
)  # fmt: skip
def test_protection_in_free_words(text: str, expected: dict[str, str]) -> None:
    assert protect_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hash the email column and mask phone numbers",
         {"email_address": "hash", "mobile": "mask"}),
        ("the email addresses should be hashed", {"email_address": "hash"}),
        ("blank out the first and last names", {"first_name": "redact", "last_name": "redact"}),
        ("the first and last names should be redacted",
         {"first_name": "redact", "last_name": "redact"}),
        ("blank out the names", {"first_name": "redact", "last_name": "redact"}),
        ("protect the phone", {"mobile": "mask"}),
        ("hash the email and name the pipeline crm", {"email_address": "hash"}),
        ("make sure nobody can read the customers' personal details", ALL_MEMBERS),
        ("protect the customers' personal information", ALL_MEMBERS),
        ("anonymize the PII", ALL_MEMBERS),
        ("no one should see sensitive data", ALL_MEMBERS),
    ],
)  # fmt: skip
def test_a_word_points_at_the_column_it_names(text: str, expected: dict[str, str]) -> None:
    found = plan(
        f"load data/members.csv into crm.members upserting on member_id; {text}",
        None,
        {"data/members.csv": MEMBERS},
    )
    assert found.spec is not None, found.questions
    assert found.spec.streams[0].transform.protect == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("hash the email", "'email' could be email_address or work_email: which one?"),
        ("mask the phone number", "'phone' could be home_phone or work_phone"),
        ("redact the names", "'names' could be product_name or brand_name"),
        ("redact the address", "'address' could be email_address, home_address or work_address"),
        ("hash the mail", "no column 'mail'"),
    ],
)
def test_a_word_that_could_name_several_columns_is_a_question(text: str, said: str) -> None:
    facts = {
        "email_address": Column("email_address", "string", protect="hash", pii=("email",)),
        "work_email": Column("work_email", "string", protect="hash", pii=("email",)),
        "home_phone": Column("home_phone", "string", protect="mask"),
        "work_phone": Column("work_phone", "string", protect="mask"),
        "product_name": Column("product_name", "string"),
        "brand_name": Column("brand_name", "string"),
        "home_address": Column("home_address", "string", protect="redact"),
        "work_address": Column("work_address", "string", protect="redact"),
    }
    found = plan(f"load data/x.csv into x, {text}", None, {"data/x.csv": facts})
    assert found.spec is None
    assert said in " ".join(found.questions)


def test_a_plural_takes_every_flagged_column_it_points_at() -> None:
    facts = {
        "home_phone": Column("home_phone", "string", protect="mask"),
        "work_phone": Column("work_phone", "string", protect="mask"),
        "phone_model": Column("phone_model", "string"),
    }
    found = plan("load data/x.csv into x, mask phone numbers", None, {"data/x.csv": facts})
    assert found.spec is not None
    assert found.spec.streams[0].transform.protect == {"home_phone": "mask", "work_phone": "mask"}


def test_proposals_fit_the_keys_and_cursor_and_what_is_said_wins() -> None:
    stream, _ = planned(
        "load people.csv into people, upsert on phone_number, incrementally by first_name, "
        "protect personal data and redact the ssn"
    )
    assert stream is not None
    # A key can only be hashed, the cursor is left alone, the user's own word stands.
    assert stream["transform"]["protect"] == {
        "email": "hash",
        "phone_number": "hash",
        "ssn": "redact",
    }


def test_a_proposal_keeps_a_value_in_a_required_column() -> None:
    stream, _ = planned("load people.csv into people, require first_name, protect personal data")
    assert stream is not None
    assert stream["transform"]["protect"]["first_name"] == "hash"


@pytest.mark.parametrize(
    ("text", "facts", "said"),
    [
        ("load people.csv into people, protect notes", PEOPLE, "How should I protect notes"),
        ("load people.csv into people, hash the mail", PEOPLE, "no column 'mail'"),
        ("load people.csv into people and protect personal data", None,
         "Which columns hold personal data"),
        ("load people.csv into people and protect personal data",
         {"id": Column("id", "integer")}, "The profile flags no column as personal data"),
        ("load people.csv into people, require first_name, redact first_name", PEOPLE,
         "remove first_name from required"),
        ("load people.csv into people, mask the email, upsert on email", PEOPLE,
         "a load key can be hashed"),
    ],
)  # fmt: skip
def test_a_protection_it_cannot_place_is_a_question(
    text: str, facts: Facts | None, said: str
) -> None:
    stream, questions = planned(text, facts)
    assert stream is None
    assert said in " ".join(questions)


def test_several_streams_ask_which_one_to_protect() -> None:
    found = plan("load a.csv and b.csv into raw.a and raw.b, hash email")
    assert found.spec is None and "several streams" in found.questions[0]


def test_a_chat_change_adds_protection_to_the_earlier_plan() -> None:
    first = plan("load people.csv into people, hash email", None, {"people.csv": PEOPLE})
    again = plan("also mask the phone numbers", first, {"people.csv": PEOPLE})
    assert again.spec is not None
    assert again.spec.streams[0].transform.protect == {"email": "hash", "phone_number": "mask"}


def test_what_a_request_protects_is_known_before_any_profile() -> None:
    text = "load people.csv into people, hash the Email column, mask phone numbers, redact notes"
    assert {"email", "phone", "phone_number", "notes"} <= protected_in(text)
    assert protected_in("load people.csv into people, drop rows without email") == set()
