"""The tally of reject reasons: like reasons counted together whatever value they quote,
samples kept as the rejects table holds them, memory bounded whatever the rejects."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from connectors import reasons
from connectors.reasons import OTHER, Reasons, general
from connectors.runtime import REJECTS_SCHEMA, Rejects, RunInfo, StreamStats


def test_a_reason_is_told_without_the_value_it_quotes() -> None:
    assert general("column 'amount': -5 is below the minimum 0") == (
        "column 'amount': … is below the minimum 0"
    )
    assert general("column 'when': 2024-01-01 10:00:00+00:00 is above the maximum '2023'") == (
        "column 'when': … is above the maximum '2023'"
    )
    # A quoted text value may hold anything, quotes and the separator of two reasons too.
    both = (
        "column 'a': \"it's; column 'b': x\" is not a valid bigint; "
        "column \"o'k\": 'x' does not fit decimal(4,2) (too many digits)"
    )
    assert general(both) == (
        "column 'a': … is not a valid bigint; "
        'column "o\'k": … does not fit decimal(4,2) (too many digits)'
    )
    for kept in ("column 'email' is null but required", "expected 3 fields, got 4"):
        assert general(kept) == kept


def test_reasons_are_counted_commonest_first_with_a_few_samples() -> None:
    tally = Reasons()
    for n in range(1, 6):
        tally.add("range", f"column 'amount': -{n} is below the minimum 0", f'{{"n": {n}}}', n)
    tally.add("required", "column 'id' is null but required", '{"id": null}', 9)
    top, second = tally.top()
    assert (top.rule, top.text, top.count) == (
        "range",
        "column 'amount': … is below the minimum 0",
        5,
    )
    assert [s.row_number for s in top.samples] == [1, 2, 3]
    assert top.samples[0].reason == "column 'amount': -1 is below the minimum 0"
    assert (second.rule, second.count) == ("required", 1)
    assert tally.of_rule("required") == [second]


def test_memory_stays_bounded() -> None:
    tally = Reasons()
    for n in range(reasons.KINDS + 100):
        tally.add("ragged", f"line {n} is odd", "x" * 10_000, n)
    found = tally.top()
    assert len(found) == reasons.KINDS + 1
    other = next(r for r in found if r.text == OTHER)
    assert other.count == 100
    assert all(len(s.raw) == reasons.RAW_CHARS for r in found for s in r.samples)


def test_rejects_tally_their_rows_as_the_table_holds_them() -> None:
    """Rows added by a rule, and rows read back from an earlier Airflow task's staging."""
    stats = StreamStats()
    rejects = Rejects(RunInfo("r1", "p", "s", datetime.now(UTC)), stats)
    rejects.add("type", ["column 'n': 'x' is not a valid bigint"], [{"n": "x"}], [2])
    staged = pa.table(
        {
            "run_id": ["r0"],
            "row_number": [None],
            "rule": ["key"],
            "reason": ["key id is null"],
            "raw": ['{"id": null}'],
        },
        schema=REJECTS_SCHEMA,
    )
    rejects.add_table(staged)
    assert stats.by_rule == {"type": 1, "key": 1}
    kinds = {
        (r.rule, r.text): [(s.row_number, s.raw) for s in r.samples] for r in stats.reasons.top()
    }
    assert kinds == {
        ("type", "column 'n': … is not a valid bigint"): [(2, '{"n": "x"}')],
        ("key", "key id is null"): [(None, '{"id": null}')],
    }
