"""The offline planner on a table of phrasings: each gives its exact spec, or questions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.planner import plan
from connectors.spec.io import to_plain

TABLE: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("phrasings.yaml")).read_text(encoding="utf-8")
)
SPECS = [(row["text"], row["spec"]) for row in TABLE if "spec" in row]
QUESTIONS = [(row["text"], row["questions"]) for row in TABLE if "questions" in row]


@pytest.mark.parametrize(("text", "expected"), SPECS, ids=[t for t, _ in SPECS])
def test_phrasing_gives_the_exact_spec(text: str, expected: dict[str, Any]) -> None:
    planned = plan(text)
    assert planned.questions == []
    assert planned.spec is not None
    assert to_plain(planned.spec) == {"description": text, **expected}


@pytest.mark.parametrize(("text", "questions"), QUESTIONS, ids=[t for t, _ in QUESTIONS])
def test_missing_or_ambiguous_gives_questions(text: str, questions: list[str]) -> None:
    planned = plan(text)
    assert planned.spec is None
    assert planned.questions == questions


def test_the_table_is_large_and_covers_both_outcomes() -> None:
    assert len(TABLE) >= 40
    assert len(SPECS) >= 40
    assert len(QUESTIONS) >= 15


def test_a_password_in_a_url_is_never_repeated() -> None:
    planned = plan("load postgresql://admin:hunter2@db.internal/shop into orders")
    assert planned.spec is None
    assert "hunter2" not in " ".join(planned.questions)


def test_the_profile_tool_gets_the_source_as_the_user_named_it() -> None:
    assert plan("read table orders on connection shop into copy").source_args == {
        "connection": "shop",
        "table": "orders",
    }
    url = "https://api.shop.com/v1/orders"
    assert plan(f"load {url} using connection shop into orders").source_args == {
        "source": url,
        "connection": "shop",
    }


def test_whitespace_does_not_change_the_plan() -> None:
    assert plan("load  data/orders.csv\ninto   orders") == plan("load data/orders.csv into orders")
