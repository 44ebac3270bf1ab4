"""The planner reads parts wherever they stand; values are placed with the source's profile;
a word it cannot place is a question, never a value. Sentences from the issue, and others
written without looking at the readers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.chat.conversation import Conversation
from agent.orchestrator.agent import Step
from agent.planner import Column, Facts, plan
from connectors.spec.io import to_plain

ROOT = Path(__file__).resolve().parents[2]
SHIPMENTS: Facts = {
    "shipment_id": Column("shipment_id", "bigint"),
    "carrier": Column("carrier", "string", ("dhl", "ups", "fedex")),
    "status": Column("status", "string", ("shipped", "pending", "lost")),
    "weight_kg": Column("weight_kg", "double"),
    "email": Column("email", "string"),
}


def spec_of(text: str, facts: Facts | None = None) -> dict[str, Any]:
    planned = plan(text, None, {"shipments.csv": facts} if facts else None)
    assert planned.spec is not None, planned.questions
    return to_plain(planned.spec)


def transform_of(text: str, facts: Facts | None = SHIPMENTS) -> dict[str, Any]:
    return dict(spec_of(text, facts)["streams"][0].get("transform", {}))


@pytest.mark.parametrize(
    ("text", "table", "mode", "schedule"),
    [
        ("Every hour, add events.jsonl to the raw.clicks table.", "raw.clicks", None, "@hourly"),
        ("Overwrite the table crm.people with customers.json each week.", "crm.people",
         "replace", "@weekly"),
        ("Copy orders.csv to analytics.copy1 every 20 minutes.", "analytics.copy1", None,
         "*/20 * * * *"),
        ("At 7:30pm on weekdays, truncate and load staff.xlsx into hr.staff", "hr.staff",
         "replace", "30 19 * * 1-5"),
        ("events.jsonl should go in the table raw.events, at 5 past the hour", "raw.events",
         None, "5 * * * *"),
        ("Laod data/orders.csv itno orders evrey day", "orders", None, "@daily"),
    ],
)  # fmt: skip
def test_parts_are_found_wherever_they_stand(
    text: str, table: str, mode: str | None, schedule: str
) -> None:
    spec = spec_of(text)
    assert spec["streams"][0]["load"]["table"] == table
    assert spec["streams"][0]["load"].get("mode") == mode
    assert spec["schedule"] == schedule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Load shipments.csv into lost with only the lost shipments",
         {"column": "status", "op": "=", "value": "lost"}),
        ("Load shipments.csv into t, leaving out lost shipments",
         {"column": "status", "op": "!=", "value": "lost"}),
        ("Load shipments.csv into t for carrier ups only",
         {"column": "carrier", "op": "=", "value": "ups"}),
        ("Load shipments.csv into t, keeping only shipments whose weight_kg is above 50",
         {"column": "weight_kg", "op": ">", "value": 50}),
        ("Load shipments.csv into t where weight_kg is not above 10",
         {"column": "weight_kg", "op": "<=", "value": 10}),
        ("Load shipments.csv into t but not the dhl ones",
         {"column": "carrier", "op": "!=", "value": "dhl"}),
        ("Load shipments.csv into t where weight_kg is 10 or more",
         {"column": "weight_kg", "op": ">=", "value": 10}),
        ("Load shipments.csv into t, only shipments from fedex",
         {"column": "carrier", "op": "=", "value": "fedex"}),
        ("Load shipments.csv into t; just the ones on pending",
         {"column": "status", "op": "=", "value": "pending"}),
        ("Load shipments.csv into t where carrier is dhl or fedex and weight_kg < 3",
         {"all": [{"column": "carrier", "op": "in", "value": ["dhl", "fedex"]},
                  {"column": "weight_kg", "op": "<", "value": 3}]}),
    ],
)  # fmt: skip
def test_row_filters_use_the_profile_to_place_values(text: str, expected: Any) -> None:
    assert transform_of(text)["filter"] == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Load shipments.csv into t with only the purple shipments", "'purple'"),
        ("Load shipments.csv into t and frobnicate the totals", "'frobnicate'"),
        ("Load shipments.csv into t, drop rows without colour", "no column 'colour'"),
        ("Load shipments.csv into t where weight_kg is heavy", "holds numbers"),
        ("Load shipments.csv into t every 30 seconds", "not a time"),
    ],
)
def test_a_word_it_cannot_place_is_a_question(text: str, said: str) -> None:
    planned = plan(text, None, {"shipments.csv": SHIPMENTS})
    assert planned.spec is None
    assert said in " ".join(planned.questions)


def test_cleaning_rules_in_free_words() -> None:
    text = (
        "Take shipments.csv, make sure every shipment has an email, one row per shipment_id "
        "keeping the first, treat a missing weight_kg as 0, and call the carrier column "
        "courier; load it into ops.shipments"
    )
    assert transform_of(text) == {
        "required": ["email"],
        "dedupe": {"keys": ["shipment_id"], "keep": "first"},
        "fill": {"weight_kg": 0},
        "rename": {"carrier": "courier"},
    }


def test_several_streams_in_one_request() -> None:
    spec = spec_of("every day, load a.csv into raw.a and b.json into raw.b")
    assert spec["schedule"] == "@daily"
    assert [(s["source"]["path"], s["load"]["table"]) for s in spec["streams"]] == [
        ("a.csv", "raw.a"),
        ("b.json", "raw.b"),
    ]
    asked = plan("load a.csv and b.json into raw.a and raw.b, drop rows without id")
    assert asked.spec is None and "several streams" in asked.questions[0]


def test_chat_refinements_use_the_same_reading() -> None:
    first = plan("I want to load orders.csv into a table called orders_clean every morning at 7")
    assert first.spec is not None
    assert (first.spec.streams[0].load.table, first.spec.schedule) == ("orders_clean", "0 7 * * *")
    again = plan("the table is orders_clean, and run it daily at 7am", first)
    assert again.spec is not None and again.spec.streams[0].load.table == "orders_clean"
    keyed = plan("actually the key is id", first)
    assert keyed.spec is not None
    assert (keyed.spec.streams[0].load.mode, keyed.spec.streams[0].load.keys) == ("upsert", ["id"])
    hourly = plan("make it hourly", plan("also drop rows without email", first))
    assert hourly.spec is not None and hourly.spec.schedule == "@hourly"
    assert hourly.spec.streams[0].transform.required == ["email"]


def test_the_offline_agent_profiles_before_it_places_a_value(tmp_path: Path) -> None:
    rows = "".join(f"{i},{['lost', 'shipped', 'pending'][i % 3]}\n" for i in range(30))
    (tmp_path / "shipments.csv").write_text("Shipment ID,Status\n" + rows, encoding="utf-8")
    chat = Conversation(tmp_path, tmp_path, "offline")
    chat.send("only the lost shipments, into ops.lost from shipments.csv", lambda _: None, print)
    assert chat.checked is not None
    condition = chat.checked.spec.streams[0].transform.filter
    assert condition is not None
    assert condition.model_dump(exclude_none=True) == {
        "column": "status",
        "op": "=",
        "value": "lost",
    }


def test_a_word_that_is_a_column_and_a_value_is_a_question(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "data")
    chat = Conversation(tmp_path, tmp_path, "offline")
    steps: list[Step] = []
    chat.send(
        "load data/orders.csv into orders, only the paid orders", lambda _: None, steps.append
    )
    assert chat.checked is None
    assert "'paid' is a column and a value of status" in steps[-1].text


def test_a_later_message_names_a_column_by_the_name_an_earlier_one_gave_it() -> None:
    profiles = {"shipments.csv": SHIPMENTS}
    first = plan("load shipments.csv into t, rename weight_kg to weight", None, profiles)
    then = plan("drop rows without weight, only where weight is above 2", first, profiles)
    assert then.spec is not None, then.questions
    transform = then.spec.streams[0].transform
    assert (transform.rename, transform.required) == ({"weight_kg": "weight"}, ["weight"])
    assert transform.filter is not None
    assert transform.filter.model_dump(exclude_none=True) == {
        "column": "weight",
        "op": ">",
        "value": 2,
    }
    stale = plan("drop rows without weight_kg", then, profiles)
    assert stale.spec is None and "no column 'weight_kg'" in stale.questions[0]
