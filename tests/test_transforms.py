"""The transform engine on real Arrow batches: each rule, rejects, schema stability."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.errors import TransformError
from connectors.runtime import Rejects, RunInfo, StreamStats
from connectors.spec.models import Transform
from connectors.transforms import apply, normalize_name, output_types
from connectors.transforms.casting import cast_column
from connectors.types import ColumnType

ROOT = Path(__file__).resolve().parents[1]


class Run:
    """One transform run: its stats, its rejects and its output batches."""

    def __init__(self, spec: dict[str, Any], batches: list[pa.RecordBatch]) -> None:
        self.stats = StreamStats()
        self.rejects = Rejects(RunInfo("run-1", "p", "s", datetime.now(UTC)), self.stats)
        self.spec = Transform.model_validate(spec)
        self.batches = list(apply(iter(batches), self.spec, self.rejects, self.stats))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [row for batch in self.batches for row in batch.to_pylist()]

    @property
    def rejected(self) -> list[dict[str, Any]]:
        return [{**row, "raw": json.loads(row["raw"])} for row in self.rejects.table().to_pylist()]

    def column(self, name: str) -> list[Any]:
        return [row[name] for row in self.rows]


def batch(**columns: list[Any]) -> pa.RecordBatch:
    return pa.record_batch(columns)


def cast_values(values: list[Any], type_text: str) -> tuple[list[Any], dict[int, str]]:
    """Cast a column; return the values and, by row, the message of each flagged row."""
    cast = cast_column(pa.array(values), ColumnType.parse(type_text))
    flagged = {
        row: problem.message
        for problem in cast.problems
        for row, bad in enumerate(problem.mask.to_pylist())
        if bad
    }
    return cast.values.to_pylist(), flagged


# --- names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Order ID", "order_id"),
        ("Montant €", "montant"),
        ("OrderID", "order_id"),
        ("customerName", "customer_name"),
        ("2nd address", "_2nd_address"),
        ("Prénom", "prenom"),
        ("€", "column_3"),
        ("x" * 80, "x" * 63),
    ],
)
def test_normalize_name(source: str, expected: str) -> None:
    assert normalize_name(source, 3) == expected


def test_rename_uses_raw_names_and_normalize_handles_the_rest() -> None:
    run = Run({"rename": {"Order ID": "id"}}, [batch(**{"Order ID": [1], "Unit Price": ["2"]})])
    assert run.batches[0].schema.names == ["id", "unit_price"]


def test_normalize_names_off_keeps_source_names() -> None:
    run = Run({"normalize_names": False}, [batch(**{"Unit Price": ["2"]})])
    assert run.batches[0].schema.names == ["Unit Price"]


def test_collision_after_normalising_names_both_columns() -> None:
    with pytest.raises(TransformError) as error:
        Run({}, [batch(**{"Order ID": [1], "order_id": [2]})])
    assert "'Order ID'" in str(error.value) and "'order_id'" in str(error.value)
    assert "rename" in str(error.value)


def test_unknown_rename_key_lists_source_columns() -> None:
    with pytest.raises(TransformError, match=r"rename: no column 'Nope'.*'Order ID'"):
        Run({"rename": {"Nope": "x"}}, [batch(**{"Order ID": [1]})])


def test_select_keeps_its_order_and_drop_removes() -> None:
    run = Run(
        {"select": ["c", "a", "b"], "drop": ["b"]},
        [batch(a=[1], b=[2], c=[3], d=[4])],
    )
    assert run.rows == [{"c": 3, "a": 1}]


@pytest.mark.parametrize("rule", [{"select": ["a", "zz"]}, {"drop": ["zz"]}])
def test_select_or_drop_of_unknown_column_lists_available(rule: dict[str, Any]) -> None:
    with pytest.raises(TransformError) as error:
        Run(rule, [batch(a=[1], b=[2])])
    message = str(error.value)
    assert "'zz'" in message and "available columns: 'a', 'b'" in message


def test_types_of_missing_column_is_an_error_on_the_first_batch() -> None:
    with pytest.raises(TransformError, match=r"types: no column 'qty'"):
        Run({"types": {"qty": "bigint"}}, [batch(a=["1"])])


# --- strings -----------------------------------------------------------------------


def test_strings_defaults_trim_nfc_and_empty_as_null() -> None:
    decomposed = "Cafe\u0301"
    run = Run({}, [batch(a=["  x  ", "", "   ", decomposed, None], n=[1, 2, 3, 4, 5])])
    assert run.column("a") == ["x", None, None, "Café", None]
    assert run.column("n") == [1, 2, 3, 4, 5]


def test_strings_case_nfkc_and_listed_columns_only() -> None:
    spec = {"strings": {"columns": ["a"], "case": "upper", "unicode": "NFKC", "trim": False}}
    run = Run(spec, [batch(a=["ﬁne ", "é"], b=["ﬁne ", " "])])
    assert run.column("a") == ["FINE ", "É"]
    assert run.column("b") == ["ﬁne ", " "]


def test_strings_off_keeps_text_as_is() -> None:
    run = Run({"strings": None}, [batch(a=[" x ", ""])])
    assert run.column("a") == [" x ", ""]


def test_strings_columns_must_exist() -> None:
    with pytest.raises(TransformError, match=r"strings.columns: no column 'zz'"):
        Run({"strings": {"columns": ["zz"]}}, [batch(a=["x"])])


# --- types -------------------------------------------------------------------------


def test_integers_reject_bad_text_and_overflow() -> None:
    values = ["1", " +5 ", "-007", "0x1F", "1.5", "9223372036854775807", "9223372036854775808"]
    cast, flagged = cast_values([*values, "-9223372036854775808", None], "bigint")
    assert cast == [1, 5, -7, None, None, 2**63 - 1, None, -(2**63), None]
    assert flagged == {
        3: "is not a valid bigint",
        4: "is not a valid bigint",
        6: "is out of range for bigint",
    }
    cast, flagged = cast_values(["2147483647", "2147483648", "-2147483648", "-2147483649"], "int")
    assert cast == [2**31 - 1, None, -(2**31), None]
    assert flagged == {1: "is out of range for integer", 3: "is out of range for integer"}


def test_float_accepts_exponents_and_specials_but_not_overflow() -> None:
    cast, flagged = cast_values(["1.5", "-2e3", ".5", "inf", "1e999", "abc"], "float")
    assert cast[:4] == [1.5, -2000.0, 0.5, float("inf")] and cast[4:] == [None, None]
    assert flagged == {4: "is out of range for float", 5: "is not a valid float"}


def test_decimal_rounds_half_away_from_zero_and_rejects_overflow() -> None:
    values = ["1.234", "1.235", "-1.235", "999.994", "999.995", "1000", "+.5", "1e2", "x"]
    cast, flagged = cast_values(values, "decimal(5,2)")
    assert cast == [
        Decimal("1.23"),
        Decimal("1.24"),
        Decimal("-1.24"),
        Decimal("999.99"),
        None,
        None,
        Decimal("0.50"),
        None,
        None,
    ]
    too_big = "does not fit decimal(5,2) (too many digits)"
    not_number = "is not a valid decimal(5,2) number"
    assert flagged == {4: too_big, 5: too_big, 7: not_number, 8: not_number}


def test_decimal_fast_path_keeps_exact_values() -> None:
    cast, flagged = cast_values(["12.50", "-0.01", "0"], "decimal(12,2)")
    assert cast == [Decimal("12.50"), Decimal("-0.01"), Decimal("0.00")] and flagged == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True), ("FALSE", False), ("t", True), ("F", False),
        ("Yes", True), ("no", False), ("1", True), ("0", False),
    ],
)  # fmt: skip
def test_boolean_variants(text: str, expected: bool) -> None:
    assert cast_values([text], "boolean") == ([expected], {})


def test_boolean_rejects_other_words() -> None:
    cast, flagged = cast_values(["y", "2", "true"], "boolean")
    assert cast == [None, None, True] and sorted(flagged) == [0, 1]


def test_dates_must_exist() -> None:
    cast, flagged = cast_values(["2024-02-29", "2023-02-29", "2024-13-01", "2024-1-1"], "date")
    assert cast == [date(2024, 2, 29), None, None, None]
    assert sorted(flagged) == [1, 2, 3]


def test_timestamptz_converts_offsets_to_utc_and_takes_naive_as_utc() -> None:
    values = [
        "2024-01-01T10:00:00+02:00",
        "2024-01-01 10:00:00.5-0130",
        "2024-01-01T10:00Z",
        "2024-01-01 10:00:00",
        "2024-01-01",
        "2024-01-01T10:00:00.123456789+01",
    ]
    cast, flagged = cast_values(values, "timestamptz")
    assert flagged == {}
    assert cast == [
        datetime(2024, 1, 1, 8, tzinfo=UTC),
        datetime(2024, 1, 1, 11, 30, 0, 500000, tzinfo=UTC),
        datetime(2024, 1, 1, 10, tzinfo=UTC),
        datetime(2024, 1, 1, 10, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 1, 9, 0, 0, 123456, tzinfo=UTC),
    ]


def test_timestamp_fast_path_for_all_zoned_text() -> None:
    cast, flagged = cast_values(["2024-06-01T00:30:00+01:00"], "timestamptz")
    assert cast == [datetime(2024, 5, 31, 23, 30, tzinfo=UTC)] and flagged == {}


def test_timestamp_rejects_impossible_values() -> None:
    values = ["2024-02-30T10:00:00", "2024-01-01T24:00:00", "2024-01-01T10:00:00+2", "soon"]
    cast, flagged = cast_values(values, "timestamp")
    assert cast == [None] * 4 and sorted(flagged) == [0, 1, 2, 3]


def test_naive_timestamp_holds_utc_wall_time() -> None:
    cast, _ = cast_values(["2024-01-01T10:00:00+02:00", "2024-01-01 10:00:00"], "timestamp")
    assert cast == [datetime(2024, 1, 1, 8), datetime(2024, 1, 1, 10)]


def test_json_text_is_validated_and_nested_values_serialised() -> None:
    cast, flagged = cast_values(['{"a": 1}', "[1, 2]", "3", "{oops"], "json")
    assert cast == ['{"a": 1}', "[1, 2]", "3", None]
    assert flagged == {3: "is not valid JSON"}
    nested = cast_column(pa.array([{"a": 1, "b": [1, 2]}, None]), ColumnType.parse("json"))
    assert [json.loads(v) if v else v for v in nested.values.to_pylist()] == [
        {"a": 1, "b": [1, 2]},
        None,
    ]


def test_typed_sources_cast_and_fall_back_to_text_rules() -> None:
    cast, flagged = cast_values([1.0, 2.5, None], "bigint")
    assert cast == [1, None, None] and flagged == {1: "is not a valid bigint"}
    cast, flagged = cast_values([1, 3_000_000_000], "integer")
    assert cast == [1, None] and flagged == {1: "is out of range for integer"}
    stamps = cast_column(
        pa.array([datetime(2024, 1, 1, 10, 0, 0, 123456)], pa.timestamp("ns")),
        ColumnType.parse("timestamptz"),
    )
    assert stamps.values.type == pa.timestamp("us", tz="UTC") and not stamps.problems
    assert cast_values([datetime(2024, 1, 1, 10)], "date") == ([date(2024, 1, 1)], {})


def test_type_failures_go_to_rejects_with_reason_raw_row_and_row_number() -> None:
    first = batch(ID=["1", "x", "3"], amount=["1.5", "2", "1e9"])
    second = batch(ID=["4", "5"], amount=["abc", "7"])
    run = Run({"types": {"id": "bigint", "amount": "decimal(6,2)"}}, [first, second])
    assert run.rows == [
        {"id": 1, "amount": Decimal("1.50")},
        {"id": 4 + 1, "amount": Decimal("7.00")},
    ]
    assert [(r["row_number"], r["rule"], r["reason"], r["raw"]) for r in run.rejected] == [
        (2, "type", "column 'id': 'x' is not a valid bigint", {"ID": "x", "amount": "2"}),
        (
            3,
            "type",
            "column 'amount': '1e9' is not a valid decimal(6,2) number",
            {"ID": "3", "amount": "1e9"},
        ),
        (
            4,
            "type",
            "column 'amount': 'abc' is not a valid decimal(6,2) number",
            {"ID": "4", "amount": "abc"},
        ),
    ]
    assert run.stats.rows_read == 5 and run.stats.by_rule == {"type": 3}


def test_a_row_failing_two_columns_is_rejected_once_with_both_reasons() -> None:
    run = Run({"types": {"a": "bigint", "b": "date"}}, [batch(a=["x"], b=["never"])])
    (reject,) = run.rejected
    assert reject["reason"].startswith("column 'a': 'x' is not a valid bigint; column 'b'")


def test_long_values_are_truncated_in_reasons() -> None:
    run = Run({"types": {"a": "bigint"}}, [batch(a=["9" * 200])])
    (reject,) = run.rejected
    assert "'" + "9" * 57 + "...'" in reject["reason"] and len(reject["reason"]) < 120
    assert reject["raw"] == {"a": "9" * 200}


# --- schema ------------------------------------------------------------------------


def test_multi_batch_stream_has_one_schema() -> None:
    first = pa.record_batch({"a": pa.nulls(2), "n": ["1", "2"], "j": ['{"x": 1}', None]})
    second = pa.record_batch({"a": ["x", None], "n": ["3", None], "j": ["[1]", "2"]})
    spec = {"types": {"n": "integer", "j": "json"}}
    run = Run(spec, [first, second])
    expected = pa.schema([("a", pa.string()), ("n", pa.int32()), ("j", pa.string())])
    assert [b.schema for b in run.batches] == [expected, expected]
    assert run.column("a") == [None, None, "x", None]
    assert output_types(run.spec, expected) == {
        "a": ColumnType("string"),
        "n": ColumnType("integer"),
        "j": ColumnType("json"),
    }


def test_later_batch_with_unexpected_column_is_an_error() -> None:
    with pytest.raises(TransformError, match=r"'extra'.*first batch"):
        Run({}, [batch(a=[1]), batch(a=[2], extra=[3])])


def test_empty_input_batch_gives_one_empty_batch_with_output_schema() -> None:
    empty = pa.record_batch({"Order ID": pa.array([], pa.string()), "b": pa.array([], pa.int64())})
    run = Run({"types": {"order_id": "bigint"}}, [empty])
    assert len(run.batches) == 1 and run.batches[0].num_rows == 0
    assert run.batches[0].schema == pa.schema([("order_id", pa.int64()), ("b", pa.int64())])


def test_no_batch_at_all_still_gives_an_empty_batch() -> None:
    run = Run({"rename": {"ID": "id"}, "types": {"id": "bigint", "amount": "float"}}, [])
    assert len(run.batches) == 1
    assert run.batches[0].schema == pa.schema([("id", pa.int64()), ("amount", pa.float64())])


def test_source_batches_are_consumed_lazily() -> None:
    seen: list[int] = []

    def source() -> Iterator[pa.RecordBatch]:
        for i in range(3):
            seen.append(i)
            yield batch(a=[str(i)])

    stats = StreamStats()
    rejects = Rejects(RunInfo("r", "p", "s", datetime.now(UTC)), stats)
    output = apply(source(), Transform(), rejects, stats)
    assert seen == []
    next(output)
    assert seen == [0]


# --- fill, required, ranges --------------------------------------------------------


def test_fill_uses_the_column_type() -> None:
    spec = {"types": {"amount": "decimal(8,2)"}, "fill": {"amount": 0, "country": "FR"}}
    run = Run(spec, [batch(amount=["1.5", None, ""], country=["DE", None, "  "])])
    assert run.column("amount") == [Decimal("1.50"), Decimal("0.00"), Decimal("0.00")]
    assert run.column("country") == ["DE", "FR", "FR"]


def test_fill_value_that_does_not_fit_a_declared_type_fails_at_start() -> None:
    spec = Transform.model_validate({"types": {"qty": "bigint"}, "fill": {"qty": "many"}})
    stats = StreamStats()
    rejects = Rejects(RunInfo("r", "p", "s", datetime.now(UTC)), stats)
    with pytest.raises(TransformError, match=r"fill: the value 'many' for column 'qty'"):
        apply(iter([]), spec, rejects, stats)


def test_fill_value_that_does_not_fit_a_source_type_fails_on_first_batch() -> None:
    with pytest.raises(TransformError, match=r"fill: .*'qty'"):
        Run({"fill": {"qty": 1.5}}, [batch(qty=[1, None])])


def test_required_rejects_nulls_and_a_rejected_row_is_not_checked_again() -> None:
    spec = {"types": {"n": "bigint"}, "required": ["n", "name"]}
    run = Run(spec, [batch(n=["x", "2", None, "4"], name=[None, None, "c", "d"])])
    assert run.rows == [{"n": 4, "name": "d"}]
    assert [(r["row_number"], r["rule"], r["reason"]) for r in run.rejected] == [
        (1, "type", "column 'n': 'x' is not a valid bigint"),
        (2, "required", "column 'name' is null but required"),
        (3, "required", "column 'n' is null but required"),
    ]


def test_fill_runs_before_required() -> None:
    run = Run({"fill": {"name": "?"}, "required": ["name"]}, [batch(name=[None, "a"])])
    assert run.column("name") == ["?", "a"] and run.rejected == []


def test_ranges_min_max_allowed() -> None:
    spec = {
        "types": {"amount": "decimal(8,2)", "day": "date"},
        "ranges": {
            "amount": {"min": 0, "max": 100},
            "status": {"allowed": ["paid", "open"]},
            "day": {"min": "2024-01-01"},
        },
    }
    data = batch(
        amount=["5", "-1", "100.01", None, "7"],
        status=["paid", "open", "paid", "lost", None],
        day=["2024-05-01", "2024-05-01", "2024-05-01", "2024-05-01", "2023-12-31"],
    )
    run = Run(spec, [data])
    assert run.column("amount") == [Decimal("5.00")]
    assert [(r["row_number"], r["rule"], r["reason"]) for r in run.rejected] == [
        (2, "range", "column 'amount': -1.00 is below the minimum 0"),
        (3, "range", "column 'amount': 100.01 is above the maximum 100"),
        (4, "range", "column 'status': 'lost' is not one of the allowed values 'paid', 'open'"),
        (5, "range", "column 'day': 2023-12-31 is below the minimum '2024-01-01'"),
    ]


def test_range_value_that_does_not_fit_fails_at_start() -> None:
    spec = Transform.model_validate({"types": {"d": "date"}, "ranges": {"d": {"min": "soon"}}})
    stats = StreamStats()
    with pytest.raises(TransformError, match=r"ranges: the value 'soon' for column 'd'"):
        apply(iter([]), spec, Rejects(RunInfo("r", "p", "s", datetime.now(UTC)), stats), stats)


# --- steps -------------------------------------------------------------------------


def test_udf_step_runs_per_batch_and_keeps_a_stable_schema() -> None:
    spec = {"types": {"qty": "bigint"}, "steps": [{"udf": "tests.udfs:add_total"}]}
    first = batch(qty=["1", "2"], country=["FR", "XX"])
    second = batch(qty=["3", None], country=["DE", "FR"])
    run = Run(spec, [first, second])
    schema = pa.schema([("qty", pa.int64()), ("country", pa.string()), ("total", pa.int64())])
    assert [b.schema for b in run.batches] == [schema, schema]
    assert run.rows == [
        {"qty": 1, "country": "FR", "total": 2},
        {"qty": 3, "country": "DE", "total": 6},
        {"qty": None, "country": "FR", "total": None},
    ]


def test_pandas_is_imported_by_a_step_only() -> None:
    """pyarrow imports pandas on its first conversion (half a second): only a step should."""
    code = (
        "import sys; from connectors.deferred_pandas import defer_pandas; defer_pandas();"
        "import tests.test_transforms as t;"
        "t.Run({'types': {'qty': 'bigint', 'ok': 'boolean'}}, [t.batch(qty=['1'], ok=['t'])]);"
        "plain = 'pandas' in sys.modules;"
        "t.test_udf_step_runs_per_batch_and_keeps_a_stable_schema();"
        "print(plain, 'pandas' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("tests.udfs:explode", r"step 1 \(tests.udfs:explode\) raised ValueError: cannot handle"),
        ("tests.udfs:not_a_frame", r"step 1 \(tests.udfs:not_a_frame\) returned list"),
    ],
)
def test_failing_udf_names_step_and_function(path: str, match: str) -> None:
    with pytest.raises(TransformError, match=match):
        Run({"steps": [{"udf": path}]}, [batch(a=[1])])


@pytest.mark.parametrize(
    "path", ["tests.no_such_module:f", "tests.udfs:missing", "tests.udfs:NOT_CALLABLE"]
)
def test_udf_that_cannot_be_imported_fails_at_start(path: str) -> None:
    spec = Transform.model_validate({"steps": [{"udf": path}]})
    stats = StreamStats()
    with pytest.raises(TransformError, match=r"step 1 \(tests\.") as error:
        apply(iter([]), spec, Rejects(RunInfo("r", "p", "s", datetime.now(UTC)), stats), stats)
    assert path.split(":")[1] in str(error.value)


# --- logging -----------------------------------------------------------------------


def test_each_rule_logs_one_summary(caplog: pytest.LogCaptureFixture) -> None:
    spec = {"types": {"n": "bigint"}, "required": ["n"], "fill": {"s": "?"}}
    with caplog.at_level(logging.INFO, logger="dagsmith"):
        Run(spec, [batch(n=["1", "x"], s=[None, "a"]), batch(n=[None, "4"], s=["b", None])])
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("transform")]
    assert "transform types: 1 column(s) cast, 1 row(s) rejected" in summary
    assert "transform required: 1 row(s) rejected" in summary
    assert "transform fill: 2 null(s) filled" in summary


# --- properties --------------------------------------------------------------------

_NUMBERISH = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.sampled_from(["", " 1 ", "x", "1e3", "0x1F", "-0", ".5", "5.", "+7"]),
    st.text(max_size=6),
)
_TYPES = ["bigint", "integer", "float", "decimal(6,2)", "boolean", "date", "timestamptz"]


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(_NUMBERISH, min_size=1, max_size=20),
    type_text=st.sampled_from(_TYPES),
)
def test_a_value_casts_the_same_alone_or_in_any_batch(
    values: list[str | None], type_text: str
) -> None:
    together, flagged = cast_values(values, type_text)
    alone = [cast_values([value], type_text) for value in values]
    assert together == [values_[0] for values_, _ in alone]
    assert sorted(flagged) == [i for i, (_, flags) in enumerate(alone) if flags]
    assert all(together[i] is None for i in flagged)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_NUMBERISH, st.sampled_from([None, "a", "b", "zz"])), min_size=0, max_size=40
    ),
    cut=st.integers(0, 40),
)
def test_every_row_is_either_output_or_rejected_once(
    rows: list[tuple[str | None, str | None]], cut: int
) -> None:
    spec = {
        "types": {"n": "decimal(6,2)"},
        "required": ["k"],
        "ranges": {"k": {"allowed": ["a", "b"]}},
    }
    numbers = [n for n, _ in rows]
    keys = [k for _, k in rows]
    parts = [
        pa.record_batch(
            {"n": pa.array(numbers[a:b], pa.string()), "k": pa.array(keys[a:b], pa.string())}
        )
        for a, b in ((0, cut), (cut, len(rows)))
    ]
    run = Run(spec, parts)
    rejected = sorted(r["row_number"] for r in run.rejected)
    assert len(set(rejected)) == len(rejected)
    assert len(run.rows) + len(rejected) == len(rows) == run.stats.rows_read
    assert all(1 <= n <= len(rows) for n in rejected)
    for number in rejected:
        assert next(r for r in run.rejected if r["row_number"] == number)["raw"] == {
            "n": numbers[number - 1],
            "k": keys[number - 1],
        }
