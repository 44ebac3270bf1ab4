"""Dates read by numpy (`connectors.transforms.moments`) and by strptime agree: on random
text near each pattern (values in and out of range, unpadded, in any case, with stray
spaces or separators), for single patterns and a style's list; and what neither reads is a
reject naming the format."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.formats import ValueFormat
from connectors.spec.models import Transform
from connectors.transforms import formats as reading
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column

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
    text = pa.array(values, pa.string())
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
