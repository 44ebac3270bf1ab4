"""The planner on the generated corpus: the tune part case by case in aggregate, the
held-out part only in aggregate (its cases are never looked at one by one)."""

from __future__ import annotations

import json

from tests.agent.corpus.generate import format_cases, generate
from tests.agent.corpus.score import CORPUS, score

TUNE_EXACT = 0.88
"""The share of tune requests that must give the exact spec (measured 0.91)."""


def test_the_committed_corpus_is_what_the_generator_writes() -> None:
    committed = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
    assert committed == generate() + format_cases()
    assert len(committed) >= 1000
    assert {case["part"] for case in committed} == {"tune", "held_out"}


def test_the_tune_part_gives_no_wrong_spec_and_mostly_exact_ones() -> None:
    result = score("tune")
    assert result.outcomes["wrong"] == 0, result.misses[:5]
    assert result.outcomes["wrong_question"] == 0, result.misses[:5]
    assert result.outcomes["exact"] / result.cases >= TUNE_EXACT


def test_the_held_out_part_gives_no_wrong_spec() -> None:
    result = score("held_out")
    assert result.outcomes["wrong"] + result.outcomes["wrong_question"] == 0
    assert result.cases >= 250
