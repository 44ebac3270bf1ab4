"""Casting a column to a spec type, flagging the values that do not fit.

A column that Arrow's own parser reads whole takes that fast path. Otherwise the text is
validated with vectorised Arrow kernels (regular expressions, comparisons) before the
valid values are cast, so a bad value costs one flag, not a failed batch. Both paths
give a value the same result. Parsing rules, for text:

- Surrounding whitespace is ignored and an empty text is null (for every type but string).
- integer/bigint: optional sign and decimal digits; out-of-range values are rejected.
- float: decimal or exponent notation, nan, inf; a finite text that overflows is rejected.
- decimal(p,s): plain notation (no exponent). Extra fraction digits are rounded half away
  from zero to the scale, as PostgreSQL's numeric does; a value whose integer part does
  not fit `p - s` digits (before or after rounding) is rejected.
- boolean: true/false, t/f, yes/no, 1/0, in any case.
- date: `YYYY-MM-DD`, a real calendar date.
- timestamp/timestamptz: ISO 8601, `T` or space between date and time, optional seconds,
  fraction (cut to microseconds) and offset (`Z`, `+hh`, `+hhmm`, `+hh:mm`). Values with an
  offset are converted to UTC; values without one are taken as UTC. A naive `timestamp`
  holds the UTC wall time.
- json: any valid JSON text, kept as written.

A type with a format (`connectors.formats`) reads text as the format says (see
`connectors.transforms.formats`): dates and timestamps with their patterns or style, numbers
with their separators and signs, booleans with their words besides the ones above. A time
zone reads naive timestamps (text without an offset, or a typed source's) as wall times
there. A value that does not match is flagged with the format in the message.

Typed (non-text) columns are cast by Arrow; when Arrow refuses (1.5 to an integer, an
overflow), the column is rendered as text and goes through the rules above. Nested values
(struct, list, map) and other typed values become JSON text for a json column; a source's
JSON text (Arrow's `json` type) is kept as written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.formats import ValueFormat
from connectors.transforms import formats, numbers
from connectors.transforms.arrow import bool_array, int_array, pc
from connectors.transforms.formats import clean
from connectors.types import ColumnType

_PROBE = 1024
_INT_LIMITS = {  # largest magnitude, positive then negative
    "integer": ("2147483647", "2147483648"),
    "bigint": ("9223372036854775807", "9223372036854775808"),
}
_INTEGER = r"^[+-]?\d+$"
_FLOAT = r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|(?i:nan(\(\w*\))?|inf|infinity))$"
_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_TRUE = ("true", "t", "yes", "1")
_FALSE = ("false", "f", "no", "0")
_UTC = pa.timestamp("us", tz="UTC")
_NUMBERS = ("integer", "bigint", "float", "decimal")
_MOMENTS = ("date", "timestamp", "timestamptz")
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_TIME = r"[T ]([01]\d|2[0-3])(:[0-5]\d(:[0-5]\d(\.\d+)?)?)?"
_OFFSET = r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)"
_ZONED = rf"^.{{11,}}{_OFFSET}$"  # an offset follows a time, never a bare date
_TIMESTAMP = rf"^\d{{4}}-\d{{2}}-\d{{2}}({_TIME}{_OFFSET}?)?$"


@dataclass(frozen=True)
class Problem:
    """Rows of a column that failed one way, and how to say it after the value."""

    mask: pa.BooleanArray
    message: str


@dataclass(frozen=True)
class Cast:
    """A cast column: `values` (null where a problem was found) and its problems."""

    values: pa.Array[Any]
    problems: list[Problem]


def cast_column(values: pa.Array[Any], target: ColumnType) -> Cast:
    """Cast `values` to `target`; values that do not fit are null and flagged."""
    arrow = target.arrow()
    if pa.types.is_dictionary(values.type):
        values = pc.dictionary_decode(values)
    if isinstance(values.type, pa.JsonType):
        values = pc.cast(values, pa.string())
        if target.name in ("json", "string"):
            return Cast(values, [])
    if pa.types.is_null(values.type):
        return Cast(pc.cast(values, arrow), [])
    if is_text(values.type):
        text = pc.cast(values, pa.string())
        if target.name == "string":
            return Cast(text, [])
        if target.format is not None and (target.name in _NUMBERS or _patterns(target)):
            return _formatted(text, target)
        fast = _fast(text, target)
        if fast is not None:
            return Cast(fast, [])
        return _PARSERS[target.name](clean(text), target)
    if target.name == "json" or (target.name == "string" and pa.types.is_nested(values.type)):
        return Cast(_to_json(values), [])
    if _zone(target) and pa.types.is_timestamp(values.type) and values.type.tz is None:
        local, problems = _as_utc(_cast_typed(values, pa.timestamp("us")), target)
        return Cast(pc.cast(local, arrow), problems)
    if values.type == arrow:
        return Cast(values, [])
    try:
        return Cast(_cast_typed(values, arrow), [])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _PARSERS[target.name](clean(pc.cast(values, pa.string())), target)


def keeps_values(source: pa.DataType, target: ColumnType) -> bool:
    """Whether casting a column of `source` to `target` turns no value into null, but the
    ones it flags (whose rows are rejected).

    Not so from text to any type but string, which reads an empty text as null, nor from
    binary, which can render as empty text. Arrow casts other values keeping each null
    where it was, or renders them as non-empty text for the parsing rules.
    """
    if pa.types.is_dictionary(source):
        source = source.value_type
    if isinstance(source, pa.JsonType):
        return target.name in ("json", "string")
    if is_text(source):
        return target.name == "string"
    binary = pa.types.is_binary(source) or pa.types.is_large_binary(source)
    return not (binary or pa.types.is_binary_view(source) or pa.types.is_null(source))


def is_text(dtype: pa.DataType) -> bool:
    """Whether an Arrow type holds text."""
    return bool(
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_string_view(dtype)
    )


def _fast(text: pa.Array[Any], target: ColumnType) -> pa.Array[Any] | None:
    """Arrow's own parser, where what it accepts is a subset of the rules; None if it refuses.

    The subset matters: a value must get the same result whether its batch takes this path
    or the validating one (Arrow also reads hex integers and decimal exponents, and turns a
    float overflow into inf, so those are sent to the validating path). A failing Arrow cast
    costs a formatted error per value, so a prefix is tried first.
    """
    if target.name in ("boolean", "json"):
        return None
    arrow = target.arrow()
    if target.name in ("timestamp", "timestamptz"):
        arrow = _timestamp_reading(text)
    try:
        pc.cast(text.slice(0, _PROBE), arrow)
        values = pc.cast(text, arrow)
    except pa.ArrowInvalid:
        return None
    if _arrow_only(text, values, target):
        return None
    if _zone(target) and arrow == pa.timestamp("us"):
        values, problems = _as_utc(values, target)
        if problems:
            return None
    exact: pa.Array[Any] = pc.cast(values, target.arrow())
    return exact


def _timestamp_reading(text: pa.Array[Any]) -> pa.DataType:
    # Arrow reads either all-naive or all-zoned text; the first value tells which to try.
    first = pc.drop_null(text.slice(0, _PROBE))
    zoned = len(first) > 0 and pc.match_substring_regex(first[:1], _ZONED)[0].as_py()
    return pa.timestamp("us", tz="UTC") if zoned else pa.timestamp("us")


def _arrow_only(text: pa.Array[Any], values: pa.Array[Any], target: ColumnType) -> bool:
    """Whether Arrow accepted a value that the rules refuse."""
    prefixes = {"integer": ("0x", "0X"), "bigint": ("0x", "0X")}.get(target.name, ())
    if any(pc.any(pc.starts_with(text, prefix)).as_py() for prefix in prefixes):
        return True
    if target.name == "decimal":
        return any(pc.any(pc.match_substring(text, e)).as_py() for e in ("e", "E"))
    return target.name == "float" and bool(pc.any(pc.is_inf(values)).as_py())


def _cast_typed(values: pa.Array[Any], arrow: pa.DataType) -> pa.Array[Any]:
    # Cutting nanoseconds to microseconds or a time to its date is the intent, not data loss.
    temporal = pa.types.is_temporal(values.type) and pa.types.is_temporal(arrow)
    cast: pa.Array[Any] = pc.cast(values, arrow, safe=not temporal)
    return cast


def _flag(text: pa.Array[Any], pattern: str) -> tuple[pa.BooleanArray, pa.BooleanArray]:
    """Rows whose text matches `pattern`, and non-null rows that do not."""
    ok = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    return ok, pc.and_(pc.is_valid(text), pc.invert(ok))


def _keep(text: pa.Array[Any], ok: pa.BooleanArray) -> pa.Array[Any]:
    kept: pa.Array[Any] = pc.if_else(ok, text, pa.scalar(None, text.type))
    return kept


def _not_a(target: ColumnType, mask: pa.BooleanArray, hint: str = "") -> Problem:
    written = target.format.describe() if target.format else ""
    if written:
        article = "an" if str(target)[0] in "aeiou" else "a"
        return Problem(mask, f"is not {article} {target} in {written}")
    return Problem(mask, f"is not a valid {target}{hint}")


def _integer(text: pa.Array[Any], target: ColumnType) -> Cast:
    ok, bad = _flag(text, _INTEGER)
    high, low = _INT_LIMITS[target.name]
    digits = pc.utf8_ltrim(text, characters="+-0")
    length = pc.binary_length(digits)
    limit = pc.if_else(pc.starts_with(text, "-"), low, high)
    too_big = pc.or_(
        pc.greater(length, len(high)),
        pc.and_(pc.equal(length, len(high)), pc.greater(digits, limit)),
    )
    out = pc.and_(ok, pc.fill_null(too_big, False))
    valid = _keep(pc.utf8_ltrim(text, characters="+"), pc.and_not(ok, out))
    values = pc.cast(valid, target.arrow())
    return Cast(values, [_not_a(target, bad), Problem(out, f"is out of range for {target}")])


def _float(text: pa.Array[Any], target: ColumnType) -> Cast:
    ok, bad = _flag(text, _FLOAT)
    values = pc.cast(_keep(text, ok), target.arrow())
    overflow = pc.and_not(
        pc.fill_null(pc.is_inf(values), False),
        pc.fill_null(pc.match_substring_regex(text, "(?i)inf"), False),
    )
    values = pc.if_else(overflow, pa.scalar(None, values.type), values)
    return Cast(values, [_not_a(target, bad), Problem(overflow, "is out of range for float")])


def _decimal(text: pa.Array[Any], target: ColumnType) -> Cast:
    assert target.precision is not None and target.scale is not None
    precision, scale = target.precision, target.scale
    ok, bad = _flag(text, _DECIMAL)
    digits = pc.utf8_ltrim(text, characters="+-0")
    point = pc.find_substring(digits, ".")
    length = pc.binary_length(digits)
    whole = pc.if_else(pc.less(point, 0), length, point)
    wide = pc.and_(ok, pc.fill_null(pc.greater(whole, precision - scale), False))
    # One extra fraction digit is enough to round half away from zero exactly, and one
    # extra integer digit holds a carry (99.995 -> 100.00) so that it can be flagged.
    if (pc.max(pc.subtract(length, whole)).as_py() or 0) > scale + 2:
        text = pc.replace_substring_regex(text, rf"(\.\d{{{scale + 1}}})\d+$", r"\1")
    work = _decimal_type(precision + 2, scale + 1)
    rounded = pc.round(
        pc.cast(_keep(text, pc.and_not(ok, wide)), work),
        ndigits=scale,
        round_mode="half_towards_infinity",
    )
    largest = Decimal("9" * (precision - scale) + "." + "9" * scale)
    carried = pc.fill_null(pc.greater(pc.abs(rounded), pa.scalar(largest, work)), False)
    values = pc.cast(pc.if_else(carried, pa.scalar(None, work), rounded), target.arrow())
    overflow = Problem(pc.or_(wide, carried), f"does not fit {target} (too many digits)")
    return Cast(values, [_not_a(target, bad, " number"), overflow])


def _decimal_type(precision: int, scale: int) -> pa.DataType:
    if precision <= 38:
        return pa.decimal128(precision, scale)
    return pa.decimal256(precision, scale)


def _boolean(text: pa.Array[Any], target: ColumnType) -> Cast:
    fmt = target.format
    true_words, false_words = _words(fmt)
    if fmt and "" in (*fmt.true_values, *fmt.false_values):
        text = pc.fill_null(text, "")
    lower = pc.utf8_lower(text)
    true = pc.is_in(lower, value_set=true_words)
    false = pc.is_in(lower, value_set=false_words)
    values = pc.if_else(true, True, pc.if_else(false, False, pa.scalar(None, pa.bool_())))
    bad = pc.and_(pc.is_valid(text), pc.is_null(values))
    return Cast(values, [_not_a(target, bad, " (true/false, yes/no, 1/0)")])


@lru_cache(maxsize=64)
def _words(fmt: ValueFormat | None) -> tuple[pa.Array[Any], pa.Array[Any]]:
    """The words read as true and as false: a format's, then the usual ones it leaves free."""
    true = [word.lower() for word in fmt.true_values] if fmt else []
    false = [word.lower() for word in fmt.false_values] if fmt else []
    true += [word for word in _TRUE if word not in false]
    false += [word for word in _FALSE if word not in true]
    return pa.array(true, pa.string()), pa.array(false, pa.string())


def _real_dates(text: pa.Array[Any], shaped: pa.BooleanArray) -> pa.BooleanArray:
    """Rows of `YYYY-MM-DD...` text whose date exists (strptime rolls Feb 30 into March)."""
    head = pc.utf8_slice_codeunits(_keep(text, shaped), 0, 10)
    parsed = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
    day = pc.cast(pc.utf8_slice_codeunits(head, 8, 10), pa.int64())
    real: pa.BooleanArray = pc.fill_null(pc.equal(pc.day(parsed), day), False)
    return real


def _date(text: pa.Array[Any], target: ColumnType) -> Cast:
    shaped, _ = _flag(text, _DATE)
    ok = _real_dates(text, shaped)
    values = pc.cast(_keep(text, ok), pa.date32())
    bad = pc.and_(pc.is_valid(text), pc.invert(ok))
    return Cast(values, [_not_a(target, bad, " (YYYY-MM-DD)")])


def _timestamp(text: pa.Array[Any], target: ColumnType) -> Cast:
    shaped, _ = _flag(text, _TIMESTAMP)
    ok = _real_dates(text, shaped)
    micro = pc.replace_substring_regex(_keep(text, ok), r"(\.\d{6})\d+", r"\1")
    zoned = pc.fill_null(pc.match_substring_regex(micro, _ZONED), False)
    local, missing = _as_utc(pc.cast(_keep(micro, pc.invert(zoned)), pa.timestamp("us")), target)
    values = pc.coalesce(local, pc.cast(_keep(micro, zoned), _UTC))
    bad = pc.and_(pc.is_valid(text), pc.invert(ok))
    hint = " (ISO 8601: YYYY-MM-DD[ hh:mm[:ss[.ffffff]]][Z|±hh:mm])"
    return Cast(pc.cast(values, target.arrow()), [_not_a(target, bad, hint), *missing])


def _zone(target: ColumnType) -> str | None:
    return target.format.timezone if target.format else None


def _as_utc(naive: pa.Array[Any], target: ColumnType) -> tuple[pa.Array[Any], list[Problem]]:
    """Naive wall times as UTC instants: in the target's time zone, else taken as UTC."""
    zone = _zone(target)
    if zone is None:
        return pc.cast(naive, _UTC), []
    values, missing = formats.zoned_to_utc(naive, zone)
    if missing is None:
        return values, []
    return values, [Problem(missing, f"does not exist in {zone} (a daylight saving gap)")]


def _patterns(target: ColumnType) -> tuple[str, ...]:
    """A date or timestamp type's strptime patterns (none: ISO 8601)."""
    if target.format is None or target.name not in _MOMENTS:
        return ()
    return target.format.patterns(timestamp=target.name != "date")


def _formatted(text: pa.Array[Any], target: ColumnType) -> Cast:
    """Text in the target's format: dates and timestamps read with its patterns (the rows
    with an offset are UTC, the others wall times), numbers through `_number`."""
    if target.name not in _MOMENTS:
        return _number(text, target)
    patterns, day = _patterns(target), target.name == "date"
    read = formats.read_formatted(text, patterns, day)
    problems = [] if read.bad is None else [_not_a(target, read.bad)]
    if day:
        return Cast(_cast_typed(read.values, pa.date32()), problems)
    zoned = read.zoned
    naive = read.values if zoned is None else _keep(read.values, pc.invert(zoned))
    values, missing = _as_utc(naive, target)
    if zoned is not None:
        values = pc.coalesce(values, pc.cast(_keep(read.values, zoned), _UTC))
    return Cast(pc.cast(values, target.arrow()), [*problems, *missing])


def _number(text: pa.Array[Any], target: ColumnType) -> Cast:
    """A number in its format: in a plain form by numpy (`connectors.transforms.numbers`;
    a float that only adds a `%` by Arrow's own parser), the rest by `number_by_arrow`."""
    fmt = target.format
    assert fmt is not None
    if target.name == "float" and _percent_only(fmt):
        percent = _percent_float(text, fmt.percent == "fraction")
        if percent is not None:
            return Cast(percent, [])
    read = numbers.read(text, target)
    if read is None:
        return number_by_arrow(text, target)
    values, left = read
    if not left.any():
        return Cast(values, [])
    rows = np.flatnonzero(left)
    rest = number_by_arrow(text.take(int_array(rows)), target)
    values = pc.replace_with_mask(values, bool_array(left), rest.values)
    placed = [Problem(formats.scattered(p.mask, rows, len(left)), p.message) for p in rest.problems]
    return Cast(values, placed)


def _percent_only(fmt: ValueFormat) -> bool:
    return fmt.decimal == "." and not (fmt.thousands or fmt.currency or fmt.accounting)


def _percent_float(text: pa.Array[Any], fraction: bool) -> pa.Array[Any] | None:
    """Floats written with a `%` or without, read by Arrow's parser once the `%` is trimmed
    (`_fast`'s rule for a float); None if it refuses a value or reads one as infinite. What
    Arrow reads, `clean` keeps as is: it refuses whitespace and empty text."""
    trimmed = _unpercent(text)
    if trimmed is None:
        trimmed = pc.utf8_rtrim(text, characters="%")
    try:
        pc.cast(trimmed.slice(0, _PROBE), pa.float64())
        values = pc.cast(trimmed, pa.float64())
    except pa.ArrowInvalid:
        return None
    read = values.to_numpy(zero_copy_only=False)
    if np.isinf(read).any():
        return None
    if fraction and not values.null_count:  # numpy divides in half the time of pc.divide
        return pa.Array.from_buffers(pa.float64(), len(read), [None, pa.py_buffer(read / 100.0)])
    divided: pa.Array[Any] = pc.divide(values, 100.0) if fraction else values
    return divided


def _unpercent(text: pa.Array[Any]) -> pa.Array[Any] | None:
    """The text with each value's `%` moved to its front as a `+`, which Arrow's parser
    reads the same number with: the bytes shifted on by one, so that each value starts with
    the `%` its predecessor ended in (a copy, where trimming rebuilds every value). None
    unless every value ends in its only `%` and holds no sign ("+-5" does not read), and no
    null holds bytes. An empty value stays empty, which Arrow refuses as it does trimmed."""
    _, offsets, data = text.buffers()
    if offsets is None or data is None or not len(text):
        return None
    bounds = np.frombuffer(memoryview(offsets), np.int32, len(text) + 1, text.offset * 4)
    start, stop = int(bounds[0]), int(bounds[-1])
    part = np.frombuffer(memoryview(data), np.uint8)[start:stop]
    # One test finds `%`, `+` and `-` (and ! # ' ) /, which no number holds): as many as
    # there are values, each ending in a `%` (checked below), they are those `%`s.
    marks = (part | 14) == ord("/")
    if np.count_nonzero(marks) != len(text) - text.null_count:
        return None
    moved = np.empty(stop - start + 1, np.uint8)
    moved[0] = ord("+")
    np.add(part, marks.view(np.uint8) * np.uint8(ord("+") - ord("%")), out=moved[1:])
    bounds = bounds - np.int32(start)
    ends = moved.take(bounds[1:]) == ord("+")  # each value's last byte
    valid = None
    if text.null_count:
        valid = pc.is_valid(text).to_numpy(zero_copy_only=False)
        if np.diff(bounds)[~valid].any():
            return None
        ends |= ~valid
    if not ends.all():
        return None
    bits = None if valid is None else bool_array(valid).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(), len(text), [bits, pa.py_buffer(bounds.data), pa.py_buffer(moved.data)]
    )


def number_by_arrow(text: pa.Array[Any], target: ColumnType) -> Cast:
    """A number in its format, brought to plain notation by Arrow's kernels and read by its
    type's rule; a percentage as a fraction is divided by 100 (a decimal's exactly, by
    moving its point). Any text; the reference the numpy reading is tested against."""
    fmt = target.format
    assert fmt is not None
    work = target
    if fmt.percent == "fraction" and target.name == "decimal":
        assert target.scale is not None
        work = replace(target, scale=target.scale - 2)
    plain, bad = formats.plain_number(clean(text), fmt)
    fast = _fast(plain, work)
    cast = Cast(fast, []) if fast is not None else _PARSERS[work.name](plain, work)
    values, masks = cast.values, {p.message: p.mask for p in cast.problems}
    if bad is not None:
        # A value off the format may still read in plain notation ('1.5' as 15): refuse it.
        values = _keep(values, pc.invert(bad))
        masks = {message: pc.and_not(mask, bad) for message, mask in masks.items()}
        unread = _not_a(work, bad)
        masks[unread.message] = pc.or_(masks.get(unread.message, bad), bad)
    if fmt.percent == "fraction":
        values = values.view(target.arrow()) if work != target else pc.divide(values, 100.0)
    named = str(work), str(target)
    return Cast(values, [Problem(mask, m.replace(*named)) for m, mask in masks.items()])


def _json_text(text: pa.Array[Any], target: ColumnType) -> Cast:
    # No Arrow kernel validates JSON: this is the one per-value Python loop.
    flags = [value is not None and not _is_json(value) for value in text.to_pylist()]
    bad = pa.array(flags, pa.bool_())
    return Cast(_keep(text, pc.invert(bad)), [Problem(bad, "is not valid JSON")])


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _to_json(values: pa.Array[Any]) -> pa.Array[Any]:
    return pa.array(
        [None if v is None else json.dumps(v, default=str) for v in values.to_pylist()],
        pa.string(),
    )


_PARSERS: dict[str, Callable[[pa.Array[Any], ColumnType], Cast]] = {
    "integer": _integer,
    "bigint": _integer,
    "float": _float,
    "decimal": _decimal,
    "boolean": _boolean,
    "date": _date,
    "timestamp": _timestamp,
    "timestamptz": _timestamp,
    "json": _json_text,
}
