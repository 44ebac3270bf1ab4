"""What numpy reads and what the general path reads agree, on random text near each format:
dates (`connectors.transforms.moments`) against strptime, values in and out of range,
unpadded, in any case, with stray spaces or separators, for single patterns and a style's
list; numbers (`connectors.transforms.numbers`) against Arrow's kernels, with separators,
currency, signs, parentheses and percent placed right and wrong; wall times in a time zone
(`connectors.transforms.zones`) against Arrow's `assume_timezone`, around DST changes over
three centuries. What neither reads is a reject naming the format."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors.formats import ValueFormat
from connectors.spec.models import Transform
from connectors.transforms import casting, numbers, zones
from connectors.transforms import formats as reading
from connectors.transforms import moments as scanning
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column, number_by_arrow
from connectors.types import ColumnType

PATTERNS = (
    "%d.%m.%Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%b %d, %Y",
    "%d %b %Y",
    "%d-%b-%y",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
)
_NAMES = ["Jan", "feb", "MAR", "Apr", "May", "June", "jul", "Sept", "Oct", "Nov", "Dec", "Mrz"]
_RANGES = {"Y": (0, 12_000), "y": (0, 120), "m": (0, 14), "d": (0, 33), "e": (0, 33)}
_RANGES |= {"H": (0, 25), "I": (0, 13), "M": (0, 61), "S": (0, 61)}


@st.composite
def near(draw: st.DrawFn, pattern: str) -> str:
    """Text written in `pattern`, or almost: each field in or out of its range, with or
    without its leading zero; now and then another separator or an extra space."""
    parts, at = [], 0
    while at < len(pattern):
        char = pattern[at]
        if char == "%":
            parts.append(draw(_field(pattern[at + 1])))
            at += 2
            continue
        stray = draw(st.sampled_from([char] * 12 + [" ", "/", "", char * 2]))
        parts.append(stray)
        at += 1
    edge = draw(st.sampled_from([""] * 10 + [" "]))
    return edge + "".join(parts)


def _field(directive: str) -> st.SearchStrategy[str]:
    if directive in ("b", "B"):
        return st.sampled_from(_NAMES + [name.upper() for name in _NAMES] + ["March", "xyz"])
    if directive == "p":
        return st.sampled_from(["AM", "PM", "am", "pM", "A.M.", "XM", ""])
    low, high = _RANGES[directive]
    padded = 4 if directive == "Y" else 2
    return st.builds(
        lambda n, width: str(n).zfill(width),
        st.integers(low, high),
        st.sampled_from([padded] * 6 + [1, padded + 1]),
    )


def _agree(values: list[str | None], patterns: tuple[str, ...], day: bool) -> None:
    """Alone in its buffer and as a stream's batch, a slice between other rows (a row read
    back from its end, if short, reads its neighbours' bytes)."""
    around = pa.array(["Mar 1, 2024 1:07 PM%", "5", *values, "9", ""], pa.string())
    for text in (pa.array(values, pa.string()), around.slice(2, len(values))):
        fast = reading.read_formatted(text, patterns, day)
        slow = reading.read_moments(text, patterns)
        expected = pc_date(slow.values) if day else slow.values
        assert fast.values.to_pylist() == expected.to_pylist(), values
        assert _flags(fast.bad, len(values)) == _flags(slow.bad, len(values)), values


def pc_date(values: pa.Array[Any]) -> pa.Array[Any]:
    cast: pa.Array[Any] = values.cast(pa.date32(), safe=False)
    return cast


def _flags(mask: pa.Array[Any] | None, size: int) -> list[bool]:
    return [False] * size if mask is None else [bool(v) for v in mask.to_pylist()]


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_numpy_and_strptime_agree_on_text_near_a_pattern(pattern: str, data: st.DataObject) -> None:
    values = data.draw(st.lists(near(pattern) | st.none(), min_size=1, max_size=40))
    _agree(values, (pattern,), day="%H" not in pattern and "%I" not in pattern)


def test_text_that_ends_before_its_pattern_does_is_left_to_strptime() -> None:
    # The batch's bytes run out before the pattern: nothing to gather past them.
    _agree([None, "Jan 01, 0"], ("%b %d, %Y",), day=True)
    _agree(["5"], ("%d.%m.%Y %H:%M",), day=False)


_EDGES = {  # a pattern whose steps after its last one- or two-digit number are read back
    "%b %d, %Y": ["Mar 5, 2024", "Dec 31, 1999", "mar 05, 2024"],
    "%d %b %Y": ["5 Mar 2024", "29 Feb 2024", "29 Feb 2023"],
    "%m/%d/%Y %I:%M %p": ["3/5/2024 1:07 PM", "12/31/2024 12:59 am", "1/1/2024 12:00 AM"],
    "%Y-%m-%d %H:%M:%S": ["2024-3-5 9:07:00", "2024-12-31 23:59:59", "2024-3-05 13:07:05"],
    "%e.%m.%Y": ["5.3.2024", "31.12.2024", "31.4.2024"],
}


def _hostile(written: str) -> list[str]:
    """Text near a value: cut short (shorter than what is read back from its end), one
    byte changed (to a digit, a space, a two-byte letter), a byte more, nothing."""
    near = [written[:cut] for cut in range(len(written))]
    for at in range(len(written)):
        near += [written[:at] + byte + written[at + 1 :] for byte in ("0", " ", "\u00e9")]
    return [*near, written + "0", " " + written, ""]


@pytest.mark.parametrize("pattern", list(_EDGES))
def test_a_pattern_s_last_steps_read_back_from_each_row_s_end_agree_with_strptime(
    pattern: str,
) -> None:
    written = _EDGES[pattern]
    day = "%H" not in pattern and "%I" not in pattern
    rows = pa.array(written)
    ok, _ = scanning.scan(rows, pattern, np.ones(len(rows), bool), day)
    slow = reading.read_moments(rows, (pattern,))
    assert ok.tolist() == [not bad for bad in _flags(slow.bad, len(rows))]  # numpy read them
    for value in written:
        hostile: list[str | None] = [*_hostile(value), None]
        _agree(hostile, (pattern,), day)
        _agree(hostile[::-1], (pattern,), day)  # short rows first, at the buffer's start
        for single in hostile:
            _agree([single], (pattern,), day)  # alone: reads before and past its buffer


@pytest.mark.parametrize("style", ["day_first", "month_first"])
@pytest.mark.parametrize("timestamp", [False, True])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_numpy_and_strptime_agree_on_a_style_s_patterns(
    style: str, timestamp: bool, data: st.DataObject
) -> None:
    patterns = ValueFormat.model_validate({"style": style}).patterns(timestamp)
    text = st.sampled_from(patterns).flatmap(near)
    values = data.draw(st.lists(text, min_size=1, max_size=40))
    _agree(values, patterns, day=not timestamp)


@pytest.mark.parametrize(
    ("written", "good", "bad"),
    [
        ({"type": "date", "format": "%Y-%m-%d"}, "2024-02-29", "2024-02-30"),
        ({"type": "date", "format": "%m/%d/%Y"}, "12/31/2024", "13/13/2024"),
        ({"type": "date", "format": "%b %d, %Y"}, "Mar 5, 2024", "Mar 32, 2024"),
        ({"type": "date", "style": "month_first"}, "02/29/2024", "02/30/2024"),
        (
            {"type": "timestamp", "format": "%m/%d/%Y %I:%M %p"},
            "3/5/2024 1:07 PM",
            "3/5/2024 0:07 PM",
        ),
    ],
)
def test_a_value_off_its_format_is_a_reject_naming_it(
    written: dict[str, Any], good: str, bad: str
) -> None:
    target = Transform.model_validate({"types": {"c": written}}).types["c"]
    assert target.format is not None
    result = cast_column(pa.array([good, bad]), target)
    flagged = {p.message: p.mask.to_pylist() for p in result.problems if any(p.mask.to_pylist())}
    assert flagged == {f"is not a {target} in {target.format.describe()}": [False, True]}
    assert result.values.to_pylist()[0] is not None and result.values.to_pylist()[1] is None


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.none() | st.text("0123456789.,- $€", max_size=8), max_size=30),
    start=st.integers(0, 5),
    change=st.sampled_from([(".", ""), (",", "."), (" ", ""), ("'", "")]),
)
def test_numpy_and_arrow_replace_a_separator_alike(
    values: list[str | None], start: int, change: tuple[str, str]
) -> None:
    # A stream's batches are slices, with nulls: the offsets start past 0.
    text = pa.array(values, pa.string()).slice(start)
    done = reading.replaced(text, *change)
    done.validate(full=True)
    assert done.to_pylist() == pc.replace_substring(text, *change).to_pylist()


# Numbers: numpy (connectors.transforms.numbers) against Arrow's reading (number_by_arrow)

_SEPARATORS = [None, ",", ".", " ", "'", "_", "\u00a0", "\u202f"]
_TOKENS = ["$", "€", "EUR", "US$", "kr", "'", "£"]
_TYPES = ["integer", "bigint", "float", "decimal(12,2)", "decimal(5,4)", "decimal(38,10)"]
_TYPES += ["decimal(18,0)", "decimal(4,2)", "decimal(20,3)"]


@st.composite
def number_formats(draw: st.DrawFn) -> ColumnType:
    """A number type with a format the spec accepts."""
    name = draw(st.sampled_from(_TYPES))
    whole = name in ("integer", "bigint")
    options: dict[str, Any] = {"type": name}
    if not whole:
        options["decimal"] = draw(st.sampled_from([".", ","]))
    thousands = draw(st.sampled_from(_SEPARATORS))
    if thousands != options.get("decimal", "."):
        options["thousands"] = thousands
    options["currency"] = draw(st.lists(st.sampled_from(_TOKENS), max_size=3, unique=True))
    scale = int(name.split(",")[1].rstrip(")")) if "," in name else 0
    percents = [None, "number"] + (["fraction"] if name == "float" or scale >= 2 else [])
    options["percent"] = draw(st.sampled_from(percents))
    options["accounting"] = draw(st.booleans())
    target = Transform.model_validate({"types": {"c": options}}).types["c"]
    if target.format is None:  # every option at its default: the plain type
        return Transform.model_validate({"types": {"c": {**options, "currency": "$"}}}).types["c"]
    return target


def _one(draw: st.DrawFn, usual: Any, *others: Any, odds: int = 3) -> Any:
    """`usual`, or now and then (one in `odds`) one of the others."""
    return draw(st.sampled_from(others)) if others and draw(st.integers(1, odds)) == 1 else usual


@st.composite
def near_number(draw: st.DrawFn, target: ColumnType) -> str:
    """Text written in the target's format, or almost: digits grouped right or wrong, with
    or without a decimal part, signs, parentheses, currency before or after, spaces, `%`."""
    fmt = target.format
    assert fmt is not None
    size = _one(draw, draw(st.integers(1, 9)), 0, 15, 18, 19, 22)
    digits = draw(st.text("0123456789", min_size=size, max_size=size))
    if fmt.thousands and draw(st.booleans()):
        groups = _one(draw, 3, 2, 4)
        head = len(digits) % groups or groups
        parts = [digits[:head]] + [digits[i : i + groups] for i in range(head, len(digits), groups)]
        digits = _one(draw, fmt.thousands, ",", ".", " ", "", odds=6).join(parts)
    text = digits
    if target.name in ("float", "decimal") and draw(st.integers(0, 2)):
        places = _one(draw, draw(st.integers(1, 4)), 0, 5, 6, 11, 23)
        point = _one(draw, fmt.decimal, ".", ",", odds=6)
        text += point + draw(st.text("0123456789", min_size=places, max_size=places))
    if fmt.percent and draw(st.integers(0, 3)):
        text += _one(draw, "%", " %", "%%", "% ", "\u00a0%")
    sign = _one(draw, draw(st.sampled_from(["", "-"])), "+", "--", "-+")
    if fmt.currency and draw(st.integers(0, 2)):
        token = _one(draw, draw(st.sampled_from(fmt.currency)), "$", "€", odds=8)
        space = _one(draw, "", " ", "  ", "\u00a0")
        forms = [
            sign + token + text,
            token + space + sign + text,
            sign + text + space + token,
            sign + token + text + token,
        ]
        text = forms[_one(draw, draw(st.integers(0, 2)), 3, odds=8)]
        if draw(st.integers(0, 9)) == 0:
            at = draw(st.integers(0, len(text)))
            text = text[:at] + token + text[at:]
    else:
        text = sign + text
    if fmt.accounting and draw(st.integers(0, 2)) == 0:
        inner = text.lstrip("-+") if draw(st.integers(0, 5)) else text
        text = _one(draw, "(" + inner + ")", "(" + inner, inner + ")", "-(" + inner + ")")
        if fmt.currency and draw(st.booleans()):
            token = draw(st.sampled_from(fmt.currency))
            text = _one(
                draw, token + text, text + token, text + " " + token, "(" + token + text[1:]
            )
    if draw(st.integers(0, 9)) == 0:
        text = _one(draw, " ", "\t", "\u00a0") + text
    if draw(st.integers(0, 9)) == 0:
        text += _one(draw, " ", "\n")
    return text


@st.composite
def written_number(draw: st.DrawFn, target: ColumnType) -> str:
    """A number written in the target's format as a spreadsheet would: any size, rounded
    or not to the scale, grouped or not, with its sign, currency and percent."""
    fmt = target.format
    assert fmt is not None
    whole = str(draw(st.integers(0, 10 ** draw(st.sampled_from([3, 6, 10, 15, 19, 21])))))
    if fmt.thousands and draw(st.booleans()):
        head = len(whole) % 3 or 3
        whole = fmt.thousands.join(
            [whole[:head], *(whole[i : i + 3] for i in range(head, len(whole), 3))]
        )
    text = whole
    if target.name in ("float", "decimal") and draw(st.booleans()):
        places = draw(st.integers(1, 8))
        text += fmt.decimal + str(draw(st.integers(0, 10**places - 1))).zfill(places)
    if fmt.percent:
        text += draw(st.sampled_from(["%", " %", ""]))
    negative = draw(st.booleans())
    token = draw(st.sampled_from(fmt.currency)) if fmt.currency and draw(st.booleans()) else ""
    if negative and fmt.accounting and draw(st.booleans()):
        return draw(st.sampled_from([f"({token}{text})", f"{token}({text})", f"({text}) {token}"]))
    sign = "-" if negative else draw(st.sampled_from(["", "+"]))
    return draw(
        st.sampled_from([f"{sign}{token}{text}", f"{token} {sign}{text}", f"{sign}{text} {token}"])
    )


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_numpy_and_arrow_read_written_numbers_alike(data: st.DataObject) -> None:
    target = data.draw(number_formats())
    values = data.draw(st.lists(written_number(target), min_size=1, max_size=30))
    _same_numbers(values, target)


def _same_numbers(values: list[str | None], target: ColumnType) -> None:
    # A stream's batches are slices: the offsets start past 0.
    text = pa.array(["1", *values], pa.string()).slice(1)
    fast = cast_column(text, target)
    slow = number_by_arrow(text, target)
    assert _exact(fast.values) == _exact(slow.values), values
    assert fast.values.type == slow.values.type
    assert _problems(fast, len(values)) == _problems(slow, len(values)), values


def _exact(values: pa.Array[Any]) -> list[Any]:
    """The values, floats by their bits (-0.0 is not 0.0)."""
    if pa.types.is_floating(values.type):
        return [None if v is None else v.hex() for v in values.to_pylist()]
    return values.to_pylist()


def _problems(cast: Any, size: int) -> dict[str, list[bool]]:
    flagged = {p.message: _flags(p.mask, size) for p in cast.problems}
    return {message: mask for message, mask in flagged.items() if any(mask)}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_numpy_and_arrow_read_numbers_alike(data: st.DataObject) -> None:
    target = data.draw(number_formats())
    written = near_number(target) | st.none() | st.sampled_from(["", " ", "-0", "0", "1e5"])
    values = data.draw(st.lists(written, min_size=1, max_size=30))
    _same_numbers(values, target)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), percent=st.sampled_from(["fraction", "number"]))
def test_numpy_and_arrow_read_percentages_alike(data: st.DataObject, percent: str) -> None:
    target = Transform.model_validate({"types": {"c": {"type": "float", "percent": percent}}})
    column = target.types["c"]
    written = near_number(column) | st.sampled_from(["1e5%", "inf%", "1e400%", "%", "0x1%"])
    _same_numbers(data.draw(st.lists(written | st.none(), min_size=1, max_size=30)), column)


@pytest.mark.parametrize(
    ("values", "moved"),
    [
        (["45%", "4.5%", None, "0.25%", "1e3%", "inf%", "nan%", "\u00e9%", "45 %"], True),
        (["45%", "%"], True),  # "+" does not read, as "" does not
        (["1e%5%", ""], True),  # "+1e+5" would read, but "" does not: the batch is refused
        (["45%", "12.5"], False),  # a value without its %
        (["45%", "-5%"], False),  # a sign: "+-5" would not read
        (["45%", "5%%"], False),  # a % before the last
        (["45%", ""], False),
    ],
)
def test_a_percentage_s_sign_moved_to_the_front_reads_as_trimmed(
    values: list[str | None], moved: bool
) -> None:
    # `_unpercent` (the copy) where it applies; either way what the reference reads.
    text = pa.array(["7%", *values, "8%"], pa.string()).slice(1, len(values))
    assert (casting._unpercent(text) is not None) is moved
    for percent in ("fraction", "number"):
        column = Transform.model_validate({"types": {"c": {"type": "float", "percent": percent}}})
        _same_numbers(values, column.types["c"])


def test_a_null_that_holds_bytes_keeps_the_percentages_from_the_copy() -> None:
    # Arrow lets a null span bytes: copied, its last would stand before the next value.
    bits, offsets = np.packbits([1, 0, 1], bitorder="little"), np.array([0, 3, 5, 8], np.int32)
    text = pa.Array.from_buffers(
        pa.string(),
        3,
        [pa.py_buffer(bits.data), pa.py_buffer(offsets.data), pa.py_buffer(b"45%9912%")],
    )
    assert casting._unpercent(text) is None
    column = Transform.model_validate({"types": {"c": {"type": "float", "percent": "fraction"}}})
    assert cast_column(text, column.types["c"]).values.to_pylist() == [0.45, None, 0.12]


@pytest.mark.parametrize(
    ("written", "values"),
    [
        ({"type": "decimal(12,2)", "decimal": ",", "thousands": "."}, ["1.234.567,89", "-0"]),
        ({"type": "float", "percent": "fraction"},
         ["45%", "12.5", "-0%", "1e5%", "inf%", "1e400%", "%", " 4%", "4% ", "45%%", "4 %"]),
        ({"type": "decimal(12,2)", "thousands": ",", "currency": ["$"], "accounting": True},
         ["(1,234.50)", "$(1,234.50)", "($1,234.50)", "(1,234.50) $", "-$1,234.50", "$ -12"]),
        ({"type": "decimal(12,2)", "decimal": ",", "thousands": "\u00a0", "currency": ["€"]},
         ["1\u00a0234,50 €", "€ 1\u00a0234,5", "-12,345 €", "12,344999 €", "12,345001"]),
        ({"type": "decimal(4,2)", "thousands": ","},
         ["99.994", "99.995", "-99.995", "100", "0099.99"]),
        ({"type": "decimal(38,10)", "thousands": ","}, ["123,456,789,012,345.678", "1" * 19]),
        ({"type": "float", "percent": "fraction", "decimal": ","}, ["45,5%", "-0%", "0,1 %"]),
        ({"type": "float", "thousands": ","}, ["9,007,199,254,740,993", "0.1", "-0", "1e400"]),
        ({"type": "integer", "thousands": ",", "currency": ["kr"]},
         ["2,147,483,647", "-2,147,483,648", "2,147,483,648", "kr 1,234", "1,234.5"]),
        ({"type": "bigint", "accounting": True},
         ["(9223372036854775807)", "000000000000000000012"]),
        ({"type": "decimal(5,4)", "percent": "fraction"}, ["45%", "45.555%", "-3%", "1000%"]),
    ],
)  # fmt: skip
def test_numpy_and_arrow_read_the_edge_cases_alike(
    written: dict[str, Any], values: list[str]
) -> None:
    target = Transform.model_validate({"types": {"c": written}}).types["c"]
    _same_numbers([*values, None, "", "  12  "], target)
    for value in values:
        _same_numbers([value], target)


@pytest.mark.parametrize(
    ("written", "values"),
    [
        ({"type": "decimal(12,2)", "decimal": ",", "thousands": "."}, ["1.234,56", "-7", "12,5"]),
        ({"type": "decimal(12,2)", "thousands": ",", "currency": ["$", "USD"], "accounting": True},
         ["$1,234.50", "-$12", "($7.00)", "12 USD", "USD 12", "$-3"]),
        ({"type": "float", "percent": "fraction", "thousands": " "}, ["45%", "1 000,5 %"[:-4]]),
        ({"type": "bigint", "thousands": "'"}, ["1'234'567", "-12"]),
    ],
)  # fmt: skip
def test_plain_forms_are_read_by_numpy(written: dict[str, Any], values: list[str]) -> None:
    target = Transform.model_validate({"types": {"c": written}}).types["c"]
    read = numbers.read(pa.array(values), target)
    assert read is not None
    assert not read[1].any()  # no row left to the other reading
    assert read[0].to_pylist() == number_by_arrow(pa.array(values), target).values.to_pylist()


# Time zones: numpy (connectors.transforms.zones) against Arrow's assume_timezone

_ZONES = ["Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"]
_ZONES += ["Africa/Casablanca", "Antarctica/Troll", "Asia/Kolkata", "UTC", "Europe/Dublin"]
_US = 1_000_000


@st.composite
def wall_times(draw: st.DrawFn, low: int, high: int) -> int | None:
    """A wall time (µs), often within a second of a quarter hour, where changes happen."""
    moment = draw(st.integers(low, high))
    if draw(st.booleans()):
        quarter = moment // (900 * _US) * 900 * _US
        moment = quarter + draw(st.sampled_from([-_US, -1, 0, 1, _US, 1800 * _US, -3600 * _US]))
    return draw(st.sampled_from([moment] * 9 + [None]))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_numpy_and_arrow_place_wall_times_in_a_zone_alike(data: st.DataObject) -> None:
    zone = data.draw(st.sampled_from(_ZONES))
    first = data.draw(st.integers(1850, 2150))
    years = data.draw(st.sampled_from([0, 1, 5, 60]))
    low = int(np.datetime64(f"{first}-01-01", "us").astype(np.int64))
    high = int(np.datetime64(f"{first + years}-12-31", "us").astype(np.int64))
    moments = data.draw(st.lists(wall_times(low, high), min_size=1, max_size=60))
    values = pa.array(moments, pa.int64()).cast(pa.timestamp("us"))
    values = values.slice(data.draw(st.integers(0, 1)))
    assume(values.null_count < len(values))  # no value: left to Arrow
    fast = zones.to_utc(values, zone)
    assert fast is not None
    slow = reading.zoned_to_utc_by_arrow(values, zone)
    assert fast[0].type == slow[0].type
    assert fast[0].to_pylist() == slow[0].to_pylist(), (zone, moments)
    assert _flags(fast[1], len(values)) == _flags(slow[1], len(values)), (zone, moments)


def test_wall_times_around_amsterdam_s_changes() -> None:
    """2024's clocks: forward at 02:00 on 31 March (02:30 does not exist), back at 03:00 on
    27 October (02:30 happens twice: the earlier, summer time, is taken)."""
    written = ["2024-03-31 01:59:59", "2024-03-31 02:30", "2024-03-31 03:00", "2024-10-27 02:30"]
    values = pc.cast(pa.array([*written, "2024-10-27 03:00", None]), pa.timestamp("us"))
    fast = zones.to_utc(values, "Europe/Amsterdam")
    assert fast is not None
    utc = fast[0].cast(pa.timestamp("us", tz="UTC")).to_pylist()
    assert [None if v is None else v.strftime("%H:%M:%S") for v in utc] == [
        "00:59:59",
        None,
        "01:00:00",
        "00:30:00",
        "02:00:00",
        None,
    ]
    assert _flags(fast[1], 6) == [False, True, False, False, False, False]


def test_years_beyond_the_table_are_left_to_arrow() -> None:
    values = pc.cast(pa.array(["0001-06-01 12:00", "2024-06-01 12:00"]), pa.timestamp("us"))
    assert zones.to_utc(values, "Europe/Amsterdam") is None
    assert zones.to_utc(values.slice(1), "Europe/Amsterdam") is not None
