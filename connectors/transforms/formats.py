"""Text written in a declared format (`connectors.formats.ValueFormat`), read vectorised.

Dates and timestamps are read by Arrow's strptime (glibc's rules: numbers may lack their
leading zero, `%b` reads English month names in any case), one pattern after another on
the rows no earlier pattern read. strptime rolls a day the month lacks into the next month
(31.02 becomes 2 March): such rows are refused, as is a `%Y` year below 1000 (`05.03.24`
read with `%d.%m.%Y`). A pattern of padded numbers (`%d.%m.%Y`) whose values all have its
width is first rearranged into ISO 8601 and read by Arrow's ISO parser, which checks the
calendar itself at several times strptime's speed; a value gets the same result either way.

Numbers are brought to plain notation (currency, percent sign and parentheses removed,
thousands separators dropped, the decimal separator made '.') for the type's own rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache, reduce
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.formats import ValueFormat
from connectors.transforms.arrow import pc

_PROBE = 1024
_FIELDS = {"Y": (0, 4), "m": (5, 2), "d": (8, 2), "H": (11, 2), "M": (14, 2), "S": (17, 2)}
"""A padded numeric directive: where its digits go in `_ISO`, and how many there are."""
_ISO = b"0000-01-01 00:00:00"
_TOKEN = re.compile(r"%(.)|(.)", re.DOTALL)
_WORD = r"[A-Za-z]+"
_LENIENT = {"b": _WORD, "B": _WORD, "a": _WORD, "A": _WORD, "p": _WORD, "%": "%"}
_LENIENT["z"] = r"(?:Z|[+-][\d:]+)"
_NAIVE = pa.timestamp("us")
_EARLIEST = {pa.date32(): date(1000, 1, 1), _NAIVE: datetime(1000, 1, 1)}


@dataclass(frozen=True)
class Moments:
    """Text read as dates or timestamps.

    `values` is date32 or timestamp[us] without a zone: the wall time as written, or UTC
    for the rows in `zoned` (their text had an offset); `bad` holds the rows no pattern read.
    """

    values: pa.Array[Any]
    zoned: pa.BooleanArray | None
    bad: pa.BooleanArray | None


@dataclass(frozen=True)
class _Layout:
    """A pattern of padded numbers and one-byte literals (`%d.%m.%Y %H:%M`), as numpy record
    types: `source` views a value (`width` bytes), `target` the ISO text it becomes (`size`
    bytes, from `_ISO`) of its `fields`; `literals` are the source's literal fields, their
    bytes and offsets. `in_order`: the fields stand where ISO has them (`%Y/%m/%d`)."""

    width: int
    size: int
    source: np.dtype[Any]
    target: np.dtype[Any]
    fields: tuple[str, ...]
    literals: tuple[tuple[str, int, int], ...]
    in_order: bool


def rearranged(text: pa.Array[Any], patterns: tuple[str, ...], day: bool) -> Moments | None:
    """A single pattern of padded numbers read through Arrow's ISO 8601 parser (dates as
    date32 when `day` and the pattern has no time); None where that does not apply."""
    layout = _layout(patterns[0]) if len(patterns) == 1 else None
    if layout is None or not pa.types.is_string(text.type):
        return None
    data, valid = _fixed_width(text, layout.width)
    if data is None:
        return None
    iso = _iso_bytes(data, layout)
    if iso is None:
        return None
    if text.null_count:
        counted = np.concatenate([[0], np.cumsum(valid * layout.size)]).astype(np.int32)
        offsets = pa.py_buffer(counted.data)
    elif layout.size == layout.width:
        offsets = _rebased(text)  # ISO text as long as the written: the same offsets
    else:
        spaced = np.arange(0, (len(text) + 1) * layout.size, layout.size, dtype=np.int32)
        offsets = pa.py_buffer(spaced.data)
    bitmap = pa.array(valid).buffers()[1] if text.null_count else None
    written = pa.StringArray.from_buffers(
        len(text), offsets, pa.py_buffer(iso.data), bitmap, text.null_count
    )
    arrow = pa.date32() if day and layout.size == 10 else _NAIVE
    try:
        pc.cast(written.slice(0, _PROBE), arrow)
        values = pc.cast(written, arrow)
    except pa.ArrowInvalid:
        return None
    earliest = pc.min(values).as_py()
    if earliest is not None and earliest < _EARLIEST[arrow]:
        return None
    return Moments(values, None, None)


def _rebased(text: pa.Array[Any]) -> pa.Buffer:
    """The offsets of a slice's values from its first one (zero-copy when they start at 0)."""
    buffer = text.buffers()[1]
    assert buffer is not None
    offsets = np.frombuffer(memoryview(buffer), np.int32, len(text) + 1, text.offset * 4)
    if text.offset == 0 and offsets[0] == 0:
        return buffer
    return pa.py_buffer((offsets - offsets[0]).data)


def _iso_bytes(data: Any, layout: _Layout) -> Any:
    """The values' bytes rearranged into ISO text; None if a literal does not match."""
    rows = data.view(layout.source)
    if any((rows[name] != byte).any() for name, byte, _ in layout.literals):
        return None
    if layout.in_order:
        iso = data.copy()
        separators = iso.view(layout.source)
        for name, _, at in layout.literals:
            separators[name] = _ISO[at]
        return iso
    iso = np.full(len(rows), np.void(_ISO[: layout.size]))
    moved = iso.view(layout.target)
    for name in layout.fields:
        moved[name] = rows[name]
    return iso


@lru_cache(maxsize=64)
def _layout(pattern: str) -> _Layout | None:
    """The layout of a pattern of padded numbers and one-byte literals with a year, month and
    day, each directive once; None for any other pattern."""
    fields: dict[str, tuple[int, int, int]] = {}  # directive: (offset, ISO offset, width)
    literals: dict[str, tuple[int, int]] = {}  # field name: (offset, byte)
    at = 0
    for directive, literal in _TOKEN.findall(pattern):
        char = "%" if directive == "%" else literal
        if directive in _FIELDS and directive not in fields:
            fields[directive] = (at, *_FIELDS[directive])
            at += _FIELDS[directive][1]
        elif directive not in ("", "%") or len(char.encode()) != 1:
            return None
        else:
            literals[f"literal{len(literals)}"] = (at, ord(char))
            at += 1
    if not {"Y", "m", "d"} <= set(fields):
        return None
    size = 19 if set(fields) - {"Y", "m", "d"} else 10
    names = [*fields, *literals]
    source = np.dtype(
        {
            "names": names,
            "formats": [f"V{w}" for _, _, w in fields.values()] + ["u1"] * len(literals),
            "offsets": [a for a, _, _ in fields.values()] + [a for a, _ in literals.values()],
            "itemsize": at,
        }
    )
    target = np.dtype(
        {
            "names": list(fields),
            "formats": [f"V{w}" for _, _, w in fields.values()],
            "offsets": [iso_at for _, iso_at, _ in fields.values()],
            "itemsize": size,
        }
    )
    marks = tuple((name, byte, offset) for name, (offset, byte) in literals.items())
    in_order = at == size and all(a == iso_at for a, iso_at, _ in fields.values())
    return _Layout(at, size, source, target, tuple(fields), marks, in_order)


def _fixed_width(text: pa.Array[Any], width: int) -> tuple[Any, Any]:
    """The bytes of the values and their validity, if every value is `width` bytes long
    (and every null none); else (None, None)."""
    _, offsets_buffer, data_buffer = text.buffers()
    assert offsets_buffer is not None and data_buffer is not None
    offsets = np.frombuffer(memoryview(offsets_buffer), np.int32, len(text) + 1, text.offset * 4)
    lengths = np.diff(offsets)
    if not text.null_count:  # the common case: no mask to build
        valid = np.ones(len(text), bool)
        if not np.all(lengths == width):
            return None, None
    else:
        valid = pc.is_valid(text).to_numpy(zero_copy_only=False)
        if not (np.all(lengths[valid] == width) and not np.any(lengths[~valid])):
            return None, None
    size = int(offsets[-1] - offsets[0])
    return np.frombuffer(memoryview(data_buffer), np.uint8, size, int(offsets[0])), valid


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
    the earlier instant."""
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
        text = pc.replace_substring(text, fmt.decimal, ".")
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
    return pc.replace_substring(text, sep, ""), pc.and_not(has, pc.fill_null(grouped, False))
