"""Value formats through the planner: phrases on the columns they name or, naming none, on the
profiled columns of their kind; a question for text that reads two ways; chat answers and
follow-ups that change the spec, checked on a real file through the dry run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from agent.chat.conversation import Conversation
from agent.orchestrator.agent import Step
from agent.planner import Column, Facts, plan
from agent.planner.format_examples import NUMERIC, date_pattern, number_options
from connectors.spec.io import to_plain

DAY_OR_MONTH = {"day_first": {"type": "date", "format": "%d/%m/%Y"},
                "month_first": {"type": "date", "format": "%m/%d/%Y"}}  # fmt: skip
PAY: Facts = {
    "id": Column("id", "bigint"),
    "shipped": Column("shipped", "string", ("03/05/2024", "04/06/2024"), readings=DAY_OR_MONTH),
    "booked": Column("booked", "date", (), format={"format": "%d.%m.%Y"}),
    "amount": Column("amount", "string", ("1,234", "2,500"), readings={
        "decimal_point": {"type": "integer", "thousands": ","},
        "decimal_comma": {"type": "float", "decimal": ","}}),
    "paid": Column("paid", "string", ("ja", "nee")),
    "status": Column("status", "string", ("open", "done")),
    "created_at": Column("created_at", "timestamp"),
}  # fmt: skip


def types_of(text: str, facts: Facts | None = PAY) -> dict[str, Any]:
    planned = plan(text, None, {"data/pay.csv": facts} if facts else None)
    assert planned.spec is not None, planned.questions
    return dict(to_plain(planned.spec)["streams"][0]["transform"]["types"])


def questions_of(text: str, facts: Facts | None = PAY) -> list[str]:
    planned = plan(text, None, {"data/pay.csv": facts} if facts else None)
    assert planned.spec is None
    return planned.questions


def test_text_that_reads_two_ways_is_one_question_per_kind() -> None:
    asked = questions_of("load data/pay.csv into pay")
    assert asked == [
        "Are the dates in shipped ('03/05/2024') day first or month first? Say 'day first' or "
        "'month first'.",
        "Is the separator in amount ('1,234') a decimal comma or a thousands separator? Say "
        "'decimal comma' or 'decimal point'.",
    ]


def test_phrases_naming_no_column_settle_the_profiled_columns_of_their_kind() -> None:
    types = types_of(
        "load data/pay.csv into pay; dates are day first, amounts use a comma for decimals, "
        "ja means true and nee means false, timestamps are in Europe/Amsterdam"
    )
    assert types == {
        "shipped": {"type": "date", "format": "%d/%m/%Y"},  # the profile's own reading
        "amount": {"type": "float", "decimal": ","},
        "paid": {"type": "boolean", "true_values": ["ja"], "false_values": ["nee"]},
        "created_at": {"type": "timestamp", "timezone": "Europe/Amsterdam"},
    }


def test_an_order_leaves_a_column_already_read_with_its_pattern_as_it_is() -> None:
    types = types_of("load data/pay.csv into pay, month first, with a decimal point")
    assert types == {
        "shipped": {"type": "date", "format": "%m/%d/%Y"},
        "amount": {"type": "integer", "thousands": ","},
    }


def test_a_named_column_takes_the_phrase_whatever_the_profile_found() -> None:
    settled = {name: column for name, column in PAY.items() if not column.readings}
    types = types_of("load data/pay.csv into pay, booked looks like 2024/03/05", settled)
    assert types == {"booked": {"type": "date", "format": "%Y/%m/%d"}}


def test_a_phrase_no_column_fits_is_a_question() -> None:
    asked = questions_of("load data/pay.csv into pay, day first, decimal comma, treat T as true")
    assert asked == ["No column of the source holds flags written that way: which one do you mean?"]


def test_a_word_that_is_no_column_is_not_taken_for_one() -> None:
    asked = questions_of("load data/pay.csv into pay, day first, decimal comma, colour is Y/N")
    assert len(asked) == 1 and asked[0].startswith("format: the source has no column 'colour'")


def test_options_the_column_type_refuses_are_a_question_naming_the_column() -> None:
    asked = questions_of("load data/pay.csv into pay, day first, decimal comma, id holds "
                         "percentages as fractions")  # fmt: skip
    assert asked == [
        "id: percent: fraction needs float or decimal, not bigint. How are its values written?"
    ]


def test_a_change_in_a_chat_keeps_the_other_types() -> None:
    base = plan("load data/pay.csv into pay, day first, decimal point", None, {"data/pay.csv": PAY})
    changed = plan("dates are month first", base, {"data/pay.csv": PAY})
    assert changed.spec is not None
    types = to_plain(changed.spec)["streams"][0]["transform"]["types"]
    assert types["shipped"] == {"type": "date", "format": "%m/%d/%Y"}
    assert types["amount"] == {"type": "integer", "thousands": ","}


@pytest.mark.parametrize(
    ("example", "order", "pattern"),
    [
        ("05.03.2024", None, "%d.%m.%Y"),  # dots: day first wherever they are written
        ("03/05/2024", None, None),  # either order: the caller asks
        ("03/05/2024", "month_first", "%m/%d/%Y"),
        ("13/05/2024", "month_first", "%d/%m/%Y"),  # no month 13: the example tells
        ("2024-02-29 12:05 AM", None, "%Y-%m-%d %I:%M %p"),
        ("3/5/24 23:59", "day_first", "%d/%m/%y %H:%M"),
    ],
)
def test_a_date_example_gives_its_pattern(example: str, order: str | None, pattern: str) -> None:
    found = NUMERIC.search(example)
    assert found is not None
    assert date_pattern(found, order) == pattern


@pytest.mark.parametrize(
    ("example", "options"),
    [
        ("1.234,56", {"decimal": ",", "thousands": "."}),
        ("1,234.56", {"thousands": ","}),
        ("(1 234,56)", {"decimal": ",", "thousands": " ", "accounting": True}),
        ("12,5", {"decimal": ","}),
        ("1,234", None),  # a thousand, or one and a bit
        ("12.50", None),  # plain notation: nothing to say
    ],
)
def test_a_number_example_gives_its_separators(example: str, options: Any) -> None:
    assert number_options(example) == options


@pytest.fixture
def chat(tmp_path: Path) -> Conversation:
    (tmp_path / "data").mkdir()
    with (tmp_path / "data" / "pay.csv").open("w", newline="", encoding="utf-8") as out:
        rows = csv.writer(out)
        rows.writerow(["id", "shipped", "paid"])
        for i in range(1, 31):  # no day above 12: either order reads every value
            rows.writerow(
                [i, f"{i % 12 + 1:02d}/{(i * 5) % 12 + 1:02d}/2024", "ja" if i % 2 else "nee"]
            )
    return Conversation(tmp_path, tmp_path, "offline")


def _send(conversation: Conversation, text: str) -> list[Step]:
    steps: list[Step] = []
    conversation.send(text, lambda _: None, steps.append)
    return steps


def test_chat_asks_the_order_takes_the_answer_then_a_follow_up(chat: Conversation) -> None:
    steps = _send(chat, "load data/pay.csv into pay")
    assert [s.kind for s in steps][-1] == "reply"
    assert "day first or month first" in steps[-1].text
    assert chat.checked is None

    _send(chat, "day first")
    assert chat.checked is not None and chat.dry_run is not None
    stream = to_plain(chat.checked.spec)["streams"][0]
    assert stream["transform"]["types"]["shipped"] == {"type": "date", "format": "%d/%m/%Y"}
    assert stream["transform"]["types"]["paid"]["type"] == "boolean"  # the profile's Y/N
    summary = chat.dry_run.summary["streams"][0]
    assert (summary["rows_loaded"], summary["rows_rejected"]) == (30, 0)
    first = chat.dry_run.rows["pay"][0]  # id 1: 02/06/2024, ja
    assert (str(first["shipped"]), first["paid"]) == ("2024-06-02", True)

    _send(chat, "actually the dates are month first")
    types = to_plain(chat.checked.spec)["streams"][0]["transform"]["types"]
    assert types["shipped"] == {"type": "date", "format": "%m/%d/%Y"}


FLAGS: Facts = {
    "id": Column("id", "bigint", ("1", "2")),
    "shipped": Column("shipped", "date", (), format={"format": "%d/%m/%Y"},
                      examples=("13/01/2024", "14/02/2024")),
    "amount": Column("amount", "string", ("1,234", "12,500")),
    "paid": Column("paid", "string", ("Y", "N")),
    "status": Column("status", "string", ("open", "done")),
    "email": Column("email", "string", ("a@example.com",)),
}  # fmt: skip
PAID = {"type": "boolean", "true_values": ["Y"], "false_values": ["N"]}


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        ("amounts use a comma for thousands, treat Y as true and N as false for paid",
         {"types": {"amount": {"type": "float", "thousands": ","}, "paid": PAID}}),
        ("treat Y as true and N as false for paid, amount uses a comma for thousands",
         {"types": {"paid": PAID, "amount": {"type": "float", "thousands": ","}}}),
        ("a comma for thousands in amount, Y means true and N means false for paid",
         {"types": {"amount": {"type": "float", "thousands": ","}, "paid": PAID}}),
        ("in the paid column, Y means true and N means false", {"types": {"paid": PAID}}),
        ("dedupe on id, treat Y as true and N as false for paid",
         {"types": {"paid": PAID}, "dedupe": {"keys": ["id"]}}),
        ("drop rows without email, Y means true and N means false for paid",
         {"types": {"paid": PAID}, "required": ["email"]}),
        ("rename status to state, treat Y as true and N as false for paid",
         {"types": {"paid": PAID}, "rename": {"status": "state"}}),
        ("cast id to bigint, treat Y as true and N as false for paid",
         {"types": {"paid": PAID, "id": "bigint"}}),
        ("where status is open, treat Y as true and N as false for paid",
         {"types": {"paid": PAID}, "filter": {"column": "status", "op": "=", "value": "open"}}),
        ("keep only id, amount and paid, Y means true and N means false for paid",
         {"types": {"paid": PAID}, "select": ["id", "amount", "paid"]}),
        ("dates are day first, amounts use a comma for thousands",
         {"types": {"amount": {"type": "float", "thousands": ","}}}),
    ],
)  # fmt: skip
def test_comma_joined_clauses_each_keep_their_own_columns(
    clauses: str, expected: dict[str, Any]
) -> None:
    planned = plan(f"load data/pay.csv into t, {clauses}", None, {"data/pay.csv": FLAGS})
    assert planned.spec is not None, planned.questions
    assert to_plain(planned.spec)["streams"][0]["transform"] == expected


@pytest.mark.parametrize(
    "text", ["dates are month first", "shipped is month first", "shipped looks like 01/13/2024"]
)
def test_a_date_format_the_values_refute_is_a_question(text: str) -> None:
    asked = questions_of(f"load data/pay.csv into t, {text}", FLAGS)
    assert len(asked) == 1 and asked[0].startswith("shipped holds '13/01/2024'")
    assert "its values read day first" in asked[0]


def test_flags_the_values_refute_are_a_question_naming_column_and_value() -> None:
    asked = questions_of("load data/pay.csv into t, treat Y as true for paid", FLAGS)
    assert asked == [
        "paid holds 'N': it does not read as you said ('treat Y as true'). How are its values "
        "written? Say it again for paid, or leave it out."
    ]
