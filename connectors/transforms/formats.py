"""Text written in a declared format (`connectors.formats.ValueFormat`), read vectorised.

Dates and timestamps in their plain form (`05.03.2024`, `Mar 5, 2024`, `3/5/2024 1:07 PM`)
are read by numpy over the text's buffers (`connectors.transforms.moments`). The other rows
go to Arrow's strptime (glibc's rules: spaces are lenient, numbers may lack their leading
zero, `%b` reads English month names in any case), one pattern after another on the rows no
earlier pattern read. strptime rolls a day the month lacks into the next month (31.02
becomes 2 March): such rows are refused, as is a `%Y` year below 1000 (`05.03.24` read with
`%d.%m.%Y`). A value gets the same result either way.

Numbers are brought to plain notation (currency, percent sign and parentheses removed,
thousands separators dropped, the decimal separator made '.') for the type's own rule; a
one-byte separator is dropped or swapped by numpy over the text's buffers (`replaced`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.formats import ValueFormat
from connectors.transforms import moments, zones
from connectors.transforms.arrow import bool_array, int_array, pc

_TOKEN = re.compile(r"%(.)|(.)", re.DOTALL)
_WORD = r"[A-Za-z]+"
_LENIENT = {"b": _WORD, "B": _WORD, "a": _WORD, "A": _WORD, "p": _WORD, "%": "%"}
_LENIENT["z"] = r"(?:Z|[+-][\d:]+)"
_NAIVE = pa.timestamp("us")
_DAY_US = 86_400_000_000


@dataclass(frozen=True)
class Moments:
    """Text read as dates or timestamps.

    `values` is date32 or timestamp[us] without a zone: the wall time as written, or UTC
    for the rows in `zoned` (their text had an offset); `bad` holds the rows no pattern read.
    """

    values: pa.Array[Any]
    zoned: pa.BooleanArray | None
    bad: pa.BooleanArray | None


def read_formatted(text: pa.Array[Any], patterns: tuple[str, ...], day: bool) -> Moments:
    """Text read with strptime patterns, tried in order, as date32 if `day`, else as
    timestamp[us]: each value in its plain form by numpy (`connectors.transforms.moments`),
    the others by strptime (a date column's once per distinct text)."""
    rows = np.ones(len(text), bool)
    if text.null_count:
        rows = pc.is_valid(text).to_numpy(zero_copy_only=False)
    values, read = None, np.zeros(len(text), bool)
    for pattern in moments.fast_patterns(patterns) if pa.types.is_string(text.type) else ():
        if not rows.any():
            break
        ok, scanned = moments.scan(text, pattern, rows, day)
        values, read = (scanned, ok) if values is None else (values + scanned, read | ok)
        rows &= ~ok
    if values is None:
        values = np.zeros(len(text), np.int32 if day else np.int64)
    zoned = bad = None
    if rows.any():
        left = np.flatnonzero(rows)
        slow = read_moments(text.take(int_array(left)), patterns, once=day)
        got = pc.is_valid(slow.values).to_numpy(zero_copy_only=False)
        micros = np.where(got, _integers(slow.values), 0)
        values[left] = micros // _DAY_US if day else micros
        read[left] = got
        zoned, bad = (
            None if m is None else scattered(m, left, len(text)) for m in (slow.zoned, slow.bad)
        )
    bitmap = None if read.all() else bool_array(read).buffers()[1]
    arrow = pa.date32() if day else _NAIVE
    read_values = pa.Array.from_buffers(arrow, len(text), [bitmap, pa.py_buffer(values.data)])
    return Moments(read_values, zoned, bad)


def _integers(values: pa.Array[Any]) -> Any:
    """A timestamp array's microseconds (whatever stands under a null)."""
    data = values.buffers()[1]
    assert data is not None
    return np.frombuffer(memoryview(data), np.int64, len(values), values.offset)


def scattered(mask: pa.Array[Any], rows: Any, size: int) -> pa.BooleanArray:
    """A mask of some rows placed at their positions (`rows`) in `size` rows of false."""
    placed = np.zeros(size, bool)
    placed[rows] = pc.fill_null(mask, False).to_numpy(zero_copy_only=False)
    return bool_array(placed)


def clean(values: pa.Array[Any]) -> pa.Array[Any]:
    """Text trimmed, an empty one null: how every type but string reads text."""
    text = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    cleaned: pa.Array[Any] = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return cleaned


def read_moments(text: pa.Array[Any], patterns: tuple[str, ...], once: bool = False) -> Moments:
    """Text read with strptime patterns, tried in order; with `once`, each distinct text
    once (a batch of dates repeats them: a year has 366)."""
    if once:
        encoded = pc.dictionary_encode(text)
        distinct = read_moments(encoded.dictionary, patterns)
        zoned, bad = (
            None if mask is None else pc.fill_null(pc.take(mask, encoded.indices), False)
            for mask in (distinct.zoned, distinct.bad)
        )
        return Moments(pc.take(distinct.values, encoded.indices), zoned, bad)
    text = clean(text)
    values = pa.nulls(len(text), _NAIVE)
    zoned = None
    left = pc.is_valid(text)
    for pattern in patterns:
        if not pc.any(left).as_py():
            break
        read = _strptime(pc.if_else(left, text, pa.scalar(None, pa.string())), pattern)
        got = pc.is_valid(read)
        values = pc.if_else(got, read, values)
        if "%z" in pattern:
            zoned = got if zoned is None else pc.or_(zoned, got)
        left = pc.and_not(left, got)
    return Moments(values, zoned, left)


def _strptime(text: pa.Array[Any], pattern: str) -> pa.Array[Any]:
    """Values read with one pattern (UTC wall time where it has %z), null where they are not,
    nor where strptime rolled a day over or read a year below 1000 for %Y."""
    read: pa.Array[Any] = pc.cast(
        pc.strptime(text, format=pattern, unit="us", error_is_null=True), _NAIVE
    )
    wrong = [_rolled(text, read, pattern)]
    if "%Y" in pattern:
        wrong.append(pc.less(pc.year(read), 1000))
    for mask in wrong:
        if mask is not None:
            read = pc.if_else(pc.fill_null(mask, False), pa.scalar(None, _NAIVE), read)
    return read


def _rolled(text: pa.Array[Any], read: pa.Array[Any], pattern: str) -> pa.Array[Any] | None:
    """Rows whose written day is not the day read: a day past the month's end rolls into
    day 1 to 3 of the next month, so only those rows are looked at."""
    regex = _day_regex(pattern)
    early = pc.fill_null(pc.less_equal(pc.day(read), 3), False)
    if regex is None or not pc.any(early).as_py():
        return None
    found = pc.extract_regex(pc.if_else(early, text, pa.scalar(None, pa.string())), regex)
    written = pc.cast(pc.struct_field(found, "day"), pa.int64())
    mask: pa.Array[Any] = pc.not_equal(written, pc.day(read))
    return mask


@lru_cache(maxsize=64)
def _day_regex(pattern: str) -> str | None:
    """A regular expression that finds the day in text strptime read with `pattern` (None if
    the pattern has no day); as lenient as strptime about spaces and leading zeros."""
    parts, captured = [], False
    for directive, literal in _TOKEN.findall(pattern):
        if directive in ("d", "e") and not captured:
            parts.append(r"\s*(?P<day>\d{1,2})")
            captured = True
        elif directive:
            parts.append(r"\s*" + _LENIENT.get(directive, r"[+-]?\d+"))
        else:
            parts.append(r"\s*" if literal.isspace() else re.escape(literal))
    return "^" + "".join(parts) + "$" if captured else None


def zoned_to_utc(values: pa.Array[Any], zone: str) -> tuple[pa.Array[Any], pa.BooleanArray | None]:
    """Naive wall times in `zone` as UTC instants, and the rows whose wall time does not exist
    there (skipped by a DST change; None if none). A wall time that exists twice is read as
    the earlier instant. Read by numpy (`connectors.transforms.zones`) where it tables the
    years, else by Arrow."""
    fast = zones.to_utc(values, zone)
    return zoned_to_utc_by_arrow(values, zone) if fast is None else fast


def zoned_to_utc_by_arrow(
    values: pa.Array[Any], zone: str
) -> tuple[pa.Array[Any], pa.BooleanArray | None]:
    """`zoned_to_utc` by Arrow's `assume_timezone`, for any values."""
    try:
        return pc.assume_timezone(values, timezone=zone, ambiguous="earliest"), None
    except pa.ArrowInvalid:
        pass  # a wall time in a DST gap: find which
    earlier = pc.assume_timezone(
        values, timezone=zone, ambiguous="earliest", nonexistent="earliest"
    )
    later = pc.assume_timezone(values, timezone=zone, ambiguous="earliest", nonexistent="latest")
    missing = pc.fill_null(pc.not_equal(earlier, later), False)
    return pc.if_else(missing, pa.scalar(None, later.type), later), missing


def plain_number(text: pa.Array[Any], fmt: ValueFormat) -> tuple[pa.Array[Any], Any]:
    """Cleaned text in plain notation (`-1234.5`), and the rows that do not match the format
    (None if all do; what their plain text reads as does not count)."""
    wrong = []
    for token in fmt.currency:
        text, misplaced = _without_token(text, token)
        wrong.append(misplaced)
    if fmt.accounting:
        wrapped = pc.fill_null(pc.and_(pc.starts_with(text, "("), pc.ends_with(text, ")")), False)
        if pc.any(wrapped).as_py():
            inner = pc.binary_join_element_wise("-", pc.utf8_slice_codeunits(text, 1, -1), "")
            text = pc.if_else(wrapped, inner, text)
    if fmt.percent:
        text = pc.utf8_rtrim(text, characters="% \u00a0")
    if fmt.thousands:
        text, ungrouped = _ungrouped(text, fmt.thousands, fmt.decimal)
        wrong.append(ungrouped)
    if fmt.decimal != ".":
        if fmt.thousands != ".":
            wrong.append(pc.match_substring(text, "."))
        text = replaced(text, fmt.decimal, ".")
    masks = [mask for mask in wrong if mask is not None]
    bad = reduce(pc.or_, masks) if masks else None
    return text, None if bad is None else pc.fill_null(bad, False)


def _without_token(text: pa.Array[Any], token: str) -> tuple[pa.Array[Any], pa.Array[Any] | None]:
    """The text without a currency symbol or code, and the rows where it stood elsewhere than
    before the number (or its sign or parenthesis) or after it (or its parenthesis)."""
    at = pc.find_substring(text, token)
    if not pc.any(pc.greater_equal(at, 0)).as_py():
        return text, None
    end = pc.subtract(pc.binary_length(text), len(token.encode()))
    edge = pc.or_(pc.less_equal(at, 0), pc.equal(at, end))
    inside = pc.or_(pc.equal(at, 1), pc.equal(at, pc.subtract(end, 1)))
    if pc.any(pc.and_not(inside, edge)).as_py():
        beside = pc.or_(
            pc.and_(pc.equal(at, 1), pc.match_substring_regex(text, r"^[-+(]")),
            pc.and_(pc.equal(at, pc.subtract(end, 1)), pc.ends_with(text, ")")),
        )
        edge = pc.or_(edge, beside)
    stripped = pc.replace_substring(text, token, "", max_replacements=1)
    return pc.utf8_trim_whitespace(stripped), pc.invert(edge)


def _ungrouped(
    text: pa.Array[Any], sep: str, decimal: str
) -> tuple[pa.Array[Any], pa.Array[Any] | None]:
    """The text without thousands separators, and the rows that have one but do not group
    their digits by three after the first group ('1.5' with thousands '.')."""
    has = pc.fill_null(pc.match_substring(text, sep), False)
    if not pc.any(has).as_py():
        return text, None
    s, d = re.escape(sep), re.escape(decimal)
    grouped = pc.match_substring_regex(text, rf"^[-+]?\d{{1,3}}({s}\d{{3}})+({d}\d*)?$")
    return replaced(text, sep, ""), pc.and_not(has, pc.fill_null(grouped, False))


def replaced(text: pa.Array[Any], old: str, new: str) -> pa.Array[Any]:
    """Every `old` in the text replaced by `new` (or removed); for one ASCII byte by numpy
    over the buffers, a byte-for-byte swap or a compaction, at a few times the speed of
    Arrow's `replace_substring`."""
    if len(old.encode()) != 1 or len(new.encode()) > 1 or not pa.types.is_string(text.type):
        swapped: pa.Array[Any] = pc.replace_substring(text, old, new)
        return swapped
    _, offsets_buffer, data_buffer = text.buffers()
    assert offsets_buffer is not None
    offsets = np.frombuffer(memoryview(offsets_buffer), np.int32, len(text) + 1, text.offset * 4)
    start, offsets = int(offsets[0]), offsets - offsets[0]
    if data_buffer is None or not offsets[-1]:
        return text
    data = np.frombuffer(memoryview(data_buffer), np.uint8, int(offsets[-1]), start)
    hit = data == ord(old)
    if new:
        data = data.copy()
        data[hit] = ord(new)
    else:
        data = data[~hit]
        removed = np.zeros(len(hit) + 1, np.int32)
        np.cumsum(hit, dtype=np.int32, out=removed[1:])
        offsets = offsets - removed[offsets]
    bitmap = bool_array(pc.is_valid(text).to_numpy(zero_copy_only=False)).buffers()[1]
    return pa.StringArray.from_buffers(
        len(text), pa.py_buffer(offsets.data), pa.py_buffer(data.data), bitmap, text.null_count
    )
