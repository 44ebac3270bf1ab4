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


@pytest.mark.parametrize(
    ("text", "facts", "said"),
    [
        ("load people.csv into people, protect notes", PEOPLE, "How should I protect notes"),
        ("load people.csv into people, hash the mail", PEOPLE, "no column 'mail'"),
        ("load people.csv into people and protect personal data", None,
         "Which columns hold personal data"),
        ("load people.csv into people and protect personal data",
         {"id": Column("id", "integer")}, "The profile flags no column as personal data"),
        ("load people.csv into people, require first_name, protect personal data", PEOPLE,
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
