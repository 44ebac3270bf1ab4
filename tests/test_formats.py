"""Types with a format (docs/formats.md): the spec's two forms, and what the transform's
casting reads, refuses and says, for every kind of format; the fast path for padded dates
gives what strptime gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import yaml
from pydantic import ValidationError

from connectors.errors import TransformError
from connectors.formats import ValueFormat
from connectors.runtime import Rejects, RunInfo, StreamStats
from connectors.spec import dump_spec, parse_spec
from connectors.spec.models import Transform
from connectors.transforms import apply
from connectors.transforms import formats as reading
from connectors.transforms import moments as scanning
from connectors.transforms.casting import cast_column
from connectors.types import ColumnType


def typed(written: Any) -> ColumnType:
    return Transform.model_validate({"types": {"c": written}}).types["c"]


def cast(written: Any, values: list[str | None]) -> tuple[list[Any], dict[str, list[str]]]:
    """The values read, and the values each problem flags."""
    result = cast_column(pa.array(values, pa.string()), typed(written))
    flagged = {
        p.message: [v for v, m in zip(values, p.mask.to_pylist(), strict=True) if m]
        for p in result.problems
    }
    return result.values.to_pylist(), {k: v for k, v in flagged.items() if v}


# The spec


def test_the_short_form_stays_and_the_mapping_round_trips() -> None:
    spec = parse_spec(
        """
pipeline: p
streams:
  - name: s
    source: {kind: csv, path: a.csv}
    transform:
      types:
        d: date
        shipped: {type: date, format: "%d.%m.%Y"}
        amount: {type: "decimal(12,2)", decimal: ",", thousands: ".", currency: ["€", EUR]}
        paid: {type: boolean, true_values: [Y, ja, x], false_values: [N, nee, ""]}
        at: {type: timestamptz, format: "%m/%d/%Y %I:%M %p", timezone: Europe/Amsterdam}
        share: {type: float, percent: fraction}
    load: {table: t}
"""
    )
    types = spec.streams[0].transform.types
    assert types["d"] == ColumnType("date")
    assert types["shipped"].format == ValueFormat(format=("%d.%m.%Y",))
    assert str(types["amount"]) == "decimal(12,2)" and types["amount"].arrow() == pa.decimal128(
        12, 2
    )
    again = parse_spec(dump_spec(spec))
    assert again == spec
    written = yaml.safe_load(dump_spec(spec))["streams"][0]["transform"]["types"]
    assert written["d"] == "date"
    assert written["shipped"] == {"type": "date", "format": "%d.%m.%Y"}
    assert written["paid"] == {
        "type": "boolean",
        "true_values": ["Y", "ja", "x"],
        "false_values": ["N", "nee", ""],
    }


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ({"type": "date", "thousands": ","}, "thousands does not apply to date; date takes format"),
        ({"type": "date", "format": "%d.%m.%Y %f"}, "unsupported directive %f"),
        ({"type": "date", "format": "dd.mm.yyyy"}, "has no directive"),
        ({"type": "date", "format": "%d.%m.%Y", "style": "day_first"}, "not both"),
        ({"type": "timestamp", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"type": "date", "timezone": "UTC"}, "timezone does not apply to date"),
        ({"type": "boolean", "true_values": [True]}, "quote the words"),
        ({"type": "boolean", "true_values": ["Y"], "false_values": ["y"]}, "both true and false"),
        ({"type": "decimal(5,1)", "percent": "fraction"}, "a scale of at least 2"),
        ({"type": "integer", "percent": "fraction"}, "needs float or decimal"),
        ({"type": "float", "decimal": ",", "thousands": ","}, "the same character"),
        ({"type": "float", "currency": ["1$"]}, "without digits"),
        ({"type": "string", "format": "%Y"}, "string takes no format options"),
        ({"type": "date", "formt": "%Y"}, "Extra inputs"),
    ],
)
def test_options_that_do_not_fit_are_refused(written: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError, match=said.replace("(", r"\(")):
        typed(written)


def test_yaml_booleans_as_words_are_refused_in_a_spec_file() -> None:
    document = "{type: boolean, true_values: [yes], false_values: [no]}"
    with pytest.raises(ValidationError, match="YAML reads yes/no"):
        typed(yaml.safe_load(document))


# Dates and timestamps


def test_a_pattern_reads_its_dates_and_refuses_the_calendar_s_gaps() -> None:
    values, flagged = cast(
        {"type": "date", "format": "%d.%m.%Y"},
        [
            "05.03.2024",
            "5.3.2024",
            " 29.02.2024 ",
            "31.02.2024",
            "29.02.2023",
            "05.03.24",
            "",
            None,
        ],
    )
    assert values == [date(2024, 3, 5)] * 2 + [date(2024, 2, 29)] + [None] * 5
    assert flagged == {"is not a date in format %d.%m.%Y": ["31.02.2024", "29.02.2023", "05.03.24"]}


@pytest.mark.parametrize(
    ("pattern", "written"),
    [
        ("%Y/%m/%d", "2024/03/05"),
        ("%m/%d/%Y", "03/05/2024"),
        ("%d.%m.%Y", "05.03.2024"),
        ("%b %d, %Y", "Mar 5, 2024"),
        ("%d %B %Y", "5 MARCH 2024"),
        ("%Y%m%d", "20240305"),
        ("%d-%b-%y", "05-mar-24"),
    ],
)
def test_every_date_pattern(pattern: str, written: str) -> None:
    assert cast({"type": "date", "format": pattern}, [written]) == ([date(2024, 3, 5)], {})


def test_timestamps_with_a_twelve_hour_clock_and_an_offset() -> None:
    values, flagged = cast(
        {"type": "timestamp", "format": "%m/%d/%Y %I:%M %p"},
        ["3/5/2024 1:07 PM", "3/5/2024 12:07 am", "3/5/2024 13:07 PM"],
    )
    assert values == [datetime(2024, 3, 5, 13, 7), datetime(2024, 3, 5, 0, 7), None]
    assert list(flagged) == ["is not a timestamp in format %m/%d/%Y %I:%M %p"]
    zoned, _ = cast(
        {"type": "timestamptz", "format": "%d.%m.%Y %H:%M %z"}, ["05.03.2024 13:07 +0100"]
    )
    assert zoned == [datetime(2024, 3, 5, 12, 7, tzinfo=UTC)]


def test_a_list_of_patterns_takes_the_first_that_reads() -> None:
    values, flagged = cast(
        {"type": "date", "format": ["%d.%m.%Y", "%Y-%m-%d"]},
        ["05.03.2024", "2024-03-06", "03/07/2024"],
    )
    assert values == [date(2024, 3, 5), date(2024, 3, 6), None]
    assert flagged == {"is not a date in format %d.%m.%Y or %Y-%m-%d": ["03/07/2024"]}


def test_styles_read_any_separator_in_their_order() -> None:
    assert (
        cast({"type": "date", "style": "day_first"}, ["05/03/2024", "5.3.2024", "05-03-2024"])[0]
        == [date(2024, 3, 5)] * 3
    )
    values, flagged = cast(
        {"type": "timestamp", "style": "month_first"},
        ["03/05/2024 13:07", "03/05/2024", "3.5.2024 13:07:09", "2024-03-05"],
    )
    assert values == [
        datetime(2024, 3, 5, 13, 7),
        datetime(2024, 3, 5),
        datetime(2024, 3, 5, 13, 7, 9),
        None,
    ]
    assert flagged == {"is not a timestamp in style month_first": ["2024-03-05"]}


def test_a_time_zone_reads_naive_wall_times_there() -> None:
    zone = {"type": "timestamptz", "timezone": "Europe/Amsterdam"}
    values, flagged = cast(
        zone, ["2024-03-05 13:07", "2024-07-05 13:07", "2024-03-05T13:07Z", "2024-03-31 02:30"]
    )
    assert values[:3] == [
        datetime(2024, 3, 5, 12, 7, tzinfo=UTC),
        datetime(2024, 7, 5, 11, 7, tzinfo=UTC),
        datetime(2024, 3, 5, 13, 7, tzinfo=UTC),  # an offset wins over the zone
    ]
    assert values[3] is None
    assert flagged == {
        "does not exist in Europe/Amsterdam (a daylight saving gap)": ["2024-03-31 02:30"]
    }
    # Twice on the night clocks go back: the earlier instant (summer time).
    twice, _ = cast({**zone, "format": "%d.%m.%Y %H:%M"}, ["27.10.2024 02:30"])
    assert twice == [datetime(2024, 10, 27, 0, 30, tzinfo=UTC)]
    naive, _ = cast({"type": "timestamp", "timezone": "America/New_York"}, ["2024-01-05 08:00"])
    assert naive == [datetime(2024, 1, 5, 13, 0)]  # a naive timestamp holds the UTC wall time


def test_a_time_zone_reads_a_typed_source_s_naive_timestamps() -> None:
    stamps = pa.array([datetime(2024, 1, 5, 8, 0)], pa.timestamp("ms"))
    result = cast_column(stamps, typed({"type": "timestamptz", "timezone": "America/New_York"}))
    assert result.values.to_pylist() == [datetime(2024, 1, 5, 13, 0, tzinfo=UTC)]


@pytest.mark.parametrize(
    "pattern",
    [
        "%d.%m.%Y",
        "%m/%d/%Y",
        "%Y/%m/%d",
        "%d.%m.%Y %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%b %d, %Y",
        "%m/%d/%Y %I:%M %p",
        "%d-%b-%y",
    ],
)
def test_the_fast_path_reads_what_strptime_reads(pattern: str) -> None:
    start = datetime(1899, 12, 25)
    moments = [start + timedelta(days=37 * i, minutes=611 * i) for i in range(2000)]
    text = pa.array([m.strftime(pattern) for m in moments] + [None])
    ok, _ = scanning.scan(text, pattern, np.ones(len(text), bool), day=False)
    assert ok[:-1].all() and not ok[-1]  # every value in its plain form; the null not
    fast = reading.read_formatted(text, (pattern,), day=False)
    slow = reading.read_moments(text, (pattern,))
    assert fast.values.to_pylist() == slow.values.to_pylist()
    assert fast.bad is None and not any(slow.bad.to_pylist())


@pytest.mark.parametrize("pattern", ["%Y/%m/%d", "%d.%m.%Y", "%b %d, %Y"])
def test_the_fast_path_reads_a_batch_sliced_from_a_stream_as_a_whole(pattern: str) -> None:
    # A stream's batches are slices: their offsets start past 0; the leap day must survive.
    days = [date(2024, 2, 27) + timedelta(days=i) for i in range(6)]
    whole = pa.array([d.strftime(pattern) for d in days], pa.string())
    for start in (0, 2):
        part = whole.slice(start)
        ok, _ = scanning.scan(part, pattern, np.ones(len(part), bool), day=True)
        assert ok.all()
        assert reading.read_formatted(part, (pattern,), day=True).values.to_pylist() == days[start:]


@pytest.mark.parametrize(
    ("pattern", "values"),
    [
        ("%d.%m.%Y", ["05.03.2024", "31.02.2024"]),  # no such day
        ("%d.%m.%Y", ["05.03.2024", "05/03/2024"]),  # a separator that is not the pattern's
        ("%d.%m.%Y", ["05.03.2024", "5.3.2024.."]),  # more than the pattern
        ("%d.%m.%Y", ["05.03.2024", "05.03.0024"]),  # a year below 1000
        ("%d.%m.%Y", ["05.03.2024", " 05.03.2024"]),  # a space strptime skips
        ("%b %d, %Y", ["Mar 5, 2024", "March 5, 2024"]),  # a whole month name
        ("%m/%d/%Y %I:%M %p", ["3/5/2024 1:07 PM", "3/5/2024 13:07 PM"]),  # hour 13 of 12
    ],
)
def test_the_fast_path_leaves_what_it_cannot_read_to_strptime(
    pattern: str, values: list[str]
) -> None:
    text = pa.array(values)
    ok, _ = scanning.scan(text, pattern, np.ones(len(text), bool), day=False)
    assert ok.tolist() == [True, False]
    slow = reading.read_moments(text, (pattern,))
    fast = reading.read_formatted(text, (pattern,), day=False)
    assert fast.values.to_pylist() == slow.values.to_pylist()
    assert (fast.bad is None and not any(slow.bad.to_pylist())) or (
        fast.bad is not None and fast.bad.to_pylist() == slow.bad.to_pylist()
    )


# Numbers


@pytest.mark.parametrize(
    ("options", "written", "read"),
    [
        ({"decimal": ",", "thousands": "."}, "-1.234.567,891", Decimal("-1234567.89")),
        ({"decimal": ",", "thousands": " "}, "1 234,5", Decimal("1234.50")),
        ({"thousands": ",", "currency": ["$"]}, "$1,234.50", Decimal("1234.50")),
        ({"thousands": ",", "currency": ["$"]}, "-$12", Decimal("-12.00")),
        ({"thousands": ",", "currency": ["$"]}, "$-12", Decimal("-12.00")),
        ({"decimal": ",", "currency": ["€", "EUR"]}, "12,50 €", Decimal("12.50")),
        ({"decimal": ",", "currency": ["€", "EUR"]}, "EUR 12,5", Decimal("12.50")),
        ({"accounting": True, "currency": ["$"]}, "($12.50)", Decimal("-12.50")),
        ({"accounting": True, "currency": ["$"]}, "$(12.50)", Decimal("-12.50")),
        ({"percent": "fraction"}, "45.5%", Decimal("0.46")),
        ({"percent": "number"}, "45.5 %", Decimal("45.50")),
    ],
)
def test_number_formats(options: dict[str, Any], written: str, read: Decimal) -> None:
    assert cast({"type": "decimal(12,2)", **options}, [written]) == ([read], {})


def test_numbers_that_do_not_match_name_the_format() -> None:
    values, flagged = cast(
        {"type": "decimal(12,2)", "decimal": ",", "thousands": ".", "currency": ["€"]},
        ["1.234,56", "1.5", "1,2,3", "12€50", "€12€", "abc", None],
    )
    assert values == [Decimal("1234.56"), *[None] * 6]
    assert flagged == {
        "is not a decimal(12,2) in format (decimal ',', thousands '.', currency '€')": [
            "1.5",  # a thousands separator before fewer than three digits: not 15
            "1,2,3",
            "12€50",
            "€12€",
            "abc",
        ]
    }


def test_percentages_as_fractions_are_exact_for_decimals() -> None:
    values, flagged = cast(
        {"type": "decimal(5,4)", "percent": "fraction"}, ["45%", "45.555%", "-3%", "1000%"]
    )
    assert values == [Decimal("0.4500"), Decimal("0.4556"), Decimal("-0.0300"), None]
    assert flagged == {"does not fit decimal(5,4) (too many digits)": ["1000%"]}
    assert cast({"type": "float", "percent": "fraction"}, ["45%", "12.5"])[0] == [0.45, 0.125]
    assert cast({"type": "bigint", "thousands": "'"}, ["1'234'567"])[0] == [1234567]


# Booleans


def test_boolean_words_besides_the_usual_ones() -> None:
    written = {"type": "boolean", "true_values": ["Y", "ja", "x"], "false_values": ["N", "nee"]}
    values, flagged = cast(written, ["Y", "n", "JA", "Nee", "x", "true", "0", "maybe", None])
    assert values == [True, False, True, False, True, True, False, None, None]
    assert flagged == {
        "is not a boolean in format (true_values 'Y'/'ja'/'x', false_values 'N'/'nee')": ["maybe"]
    }


def test_an_empty_false_word_reads_empty_and_missing_values_as_false() -> None:
    values, _ = cast(
        {"type": "boolean", "true_values": ["x"], "false_values": [""]}, ["x", "", None]
    )
    assert values == [True, False, False]


def test_a_word_of_the_user_wins_over_a_usual_one() -> None:
    values, _ = cast({"type": "boolean", "true_values": ["0"], "false_values": ["1"]}, ["0", "1"])
    assert values == [True, False]


# In the transform


def test_rejects_name_the_value_and_the_format() -> None:
    stats = StreamStats()
    rejects = Rejects(RunInfo("r", "p", "s", datetime.now(UTC)), stats)
    spec = Transform.model_validate(
        {
            "types": {"shipped": {"type": "date", "format": "%d.%m.%Y"}},
            "ranges": {"shipped": {"min": "2024-01-01"}},
            "fill": {"shipped": "01.01.2024"},
        }
    )
    batch = pa.record_batch({"shipped": ["05.03.2024", "31.02.2024", None, "05.03.2023"]})
    (out,) = list(apply(iter([batch]), spec, rejects, stats))
    assert out.column("shipped").to_pylist() == [date(2024, 3, 5), date(2024, 1, 1)]
    reasons = rejects.table().column("reason").to_pylist()
    assert reasons == [
        "column 'shipped': '31.02.2024' is not a date in format %d.%m.%Y",
        "column 'shipped': 2023-03-05 is below the minimum '2024-01-01'",
    ]


def test_a_bound_in_neither_form_says_both_refusals() -> None:
    spec = Transform.model_validate(
        {
            "types": {"shipped": {"type": "date", "format": "%d.%m.%Y"}},
            "ranges": {"shipped": {"min": "March 5"}},
        }
    )
    batch = pa.record_batch({"shipped": ["05.03.2024"]})
    stats = StreamStats()
    rejects = Rejects(RunInfo("r", "p", "s", datetime.now(UTC)), stats)
    with pytest.raises(TransformError, match=r"in format %d\.%m\.%Y and is not a valid date"):
        list(apply(iter([batch]), spec, rejects, stats))
