"""How a text column writes its values, when the type's own rules do not read them:
date patterns, number separators and signs, boolean words.

Each proposal is checked the way a run reads it (`cast_column` with the format), so its
share is the evidence. Dates try a list of patterns; a column that needs several is mixed
and the values each reads are counted. Of two readings (day or month first), the one that
reads more values wins (a day above 12 tells); text they read alike but differently
(`03/05/2024`, no day above 12 in the sample) is ambiguous: both readings are kept and the
column stays text, for the user to choose (`dagsmith init --day-first`). Numbers whose
separators read two ways (`1,234`: thousands or decimal comma) are ambiguous too. Every
word a proposal holds comes from the lists here, never from the source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa

from connectors.formats import ValueFormat
from connectors.profiling.model import TypeGuess
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column
from connectors.types import ColumnType

PROBE = 200
"""Values a candidate format is first tried on; only those that read some go further."""
MOST_PATTERNS = 4
_DAYS = ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y")
_MONTHS = ("%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y", "%m/%d/%y", "%m.%d.%y")
_DATES = (
    *_DAYS,
    *_MONTHS,
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y-%m-%d",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", "T%H:%M:%S")
PATTERNS = (*(d + t for d in _DATES for t in _TIMES), "%a, %d %b %Y %H:%M:%S %z")
"""The date and timestamp patterns a profile tries."""
_ORDERS = {
    order: frozenset(d + t for d in dates for t in _TIMES)
    for order, dates in (("day_first", _DAYS), ("month_first", _MONTHS))
}
"""The patterns of each reading, with their times: `03/05/2024 13:07` is as ambiguous."""
_CURRENCIES = ("$", "€", "£", "¥", "USD", "EUR", "GBP", "CHF", "JPY")
_SEPARATORS = (
    (".", ","),
    (",", "."),
    (",", None),
    (".", " "),
    (",", " "),
    (",", "\u00a0"),
    (".", "'"),
    (".", None),
)
"""(decimal, thousands) pairs a profile tries, the commonest first."""
_TRUE = ("y", "j", "ja", "oui", "si", "sí", "x", "✓")
_FALSE = ("n", "nee", "nein", "non", "no", "")
_SHORT = 12
"""Longest text a boolean word may have."""


@dataclass(frozen=True)
class Proposal:
    """A type with its format for a text column, and the values it reads (nulls where not);
    for ambiguous text, the guess is `string` with its readings, and the values the text."""

    guess: TypeGuess
    values: pa.Array[Any]


def propose(text: pa.Array[Any], money: bool, threshold: float) -> Proposal | None:
    """The format of a text column's values, if one reads at least `threshold` of them."""
    present = pc.drop_null(pc.utf8_trim_whitespace(text))
    present = pc.filter(present, pc.not_equal(present, ""))
    if len(present) == 0:
        return None
    digits = _share(present[:PROBE], r"\d") >= threshold
    finders = (_dates, _numbers) if digits else ()
    for finder in (*finders, _words):
        found: Proposal | None = finder(text, present, money, threshold)
        if found is not None:
            return found
    return None


def _dates(
    text: pa.Array[Any], present: pa.Array[Any], money: bool, threshold: float
) -> Proposal | None:
    probe = present[:PROBE]
    tried = [p for p in PATTERNS if _reads(probe, _typed("timestamp", format=(p,)))]
    reads = {p: _reads(present, _typed("timestamp", format=(p,)), mask=True) for p in tried}
    readings = {}
    for order, other in (("day_first", "month_first"), ("month_first", "day_first")):
        chosen = _cover({p: m for p, m in reads.items() if p not in _ORDERS[other]}, threshold)
        if chosen:
            readings[order] = _date_guess(text, present, chosen)
    return _resolved(text, readings)


def _cover(reads: dict[str, Any], threshold: float) -> dict[str, int]:
    """Patterns chosen greedily, each for the values no earlier one reads, while one reads
    at least 1% of them (and two); their counts, if they read `threshold` of the values."""
    chosen: dict[str, int] = {}
    if not reads:
        return chosen
    size = len(next(iter(reads.values())))
    left = pa.array([True] * size)
    while len(chosen) < MOST_PATTERNS:
        gains = {p: int(pc.sum(pc.and_(m, left)).as_py() or 0) for p, m in reads.items()}
        best = max((p for p in gains if p not in chosen), key=gains.__getitem__, default=None)
        if best is None or gains[best] < max(2, 0.01 * size):
            break
        chosen[best] = gains[best]
        left = pc.and_not(left, reads[best])
    return chosen if sum(chosen.values()) >= threshold * size else {}


def _date_guess(text: pa.Array[Any], present: pa.Array[Any], chosen: dict[str, int]) -> Proposal:
    patterns = tuple(chosen)
    timed = any("%H" in p or "%I" in p for p in patterns)
    name = "timestamptz" if any("%z" in p for p in patterns) else "timestamp" if timed else "date"
    typed = _typed(name, format=patterns)
    assert typed is not None  # each pattern read values already
    proposal = _attempt(text, present, typed)
    if len(patterns) > 1:
        return Proposal(replace(proposal.guess, mixed=chosen), proposal.values)
    return proposal


def _resolved(text: pa.Array[Any], readings: dict[str, Proposal]) -> Proposal | None:
    """The reading that reads the most values (a day above 12 tells day first); readings
    that read as many and differ make the text ambiguous: it stays text."""
    if not readings:
        return None
    most = max(found.guess.share for found in readings.values())
    readings = {order: found for order, found in readings.items() if found.guess.share == most}
    first, *others = readings.values()
    if all(_same(first.values, other.values) for other in others):
        return first
    guesses = {order: found.guess for order, found in readings.items()}
    return Proposal(TypeGuess("string", 1.0, 0, readings=guesses), text)


def _numbers(
    text: pa.Array[Any], present: pa.Array[Any], money: bool, threshold: float
) -> Proposal | None:
    probe = present[:PROBE]
    currency = tuple(c for c in _CURRENCIES if pc.any(pc.match_substring(probe, c)).as_py())
    percent = bool(pc.any(pc.ends_with(probe, "%")).as_py())
    wrapped = pc.and_(pc.starts_with(probe, "("), pc.ends_with(probe, ")"))
    accounting = bool(pc.any(wrapped).as_py())
    found: dict[str, Proposal] = {}
    marks = {mark for mark in ",. '\u00a0" if pc.any(pc.match_substring(present, mark)).as_py()}
    for decimal, thousands in _SEPARATORS:
        needed = {thousands} - {None} | ({decimal} - {"."})
        if not needed <= marks:
            continue  # a separator the values never hold
        reading = "decimal_point" if decimal == "." else "decimal_comma"
        options: dict[str, Any] = {"decimal": decimal, "thousands": thousands}
        options |= {"currency": currency, "accounting": accounting}
        options["percent"] = "fraction" if percent else None
        if reading not in found:
            fitting = _number_guess(text, present, options, money or bool(currency), threshold)
            if fitting is not None:
                found[reading] = fitting
    return _resolved(text, found)


def _number_guess(
    text: pa.Array[Any],
    present: pa.Array[Any],
    options: dict[str, Any],
    money: bool,
    threshold: float,
) -> Proposal | None:
    """The first number type these options read `threshold` of the values as."""
    names = ("integer", "bigint", "decimal(18,4)" if money else "float")
    fraction = options.get("percent") == "fraction"
    for name in names[2:] if fraction else names:
        typed = _typed(name, **options)
        if typed is None or not _reads(present[:PROBE], typed):
            continue
        proposal = _attempt(text, present, typed)
        if proposal.guess.share >= threshold:
            return proposal
    return None


def _words(
    text: pa.Array[Any], present: pa.Array[Any], money: bool, threshold: float
) -> Proposal | None:
    """Two words of a known pair (Y/N, ja/nee...; kept in the source's case, which reading
    ignores), or a lone mark (x) beside empty values."""
    distinct = pc.unique(present).to_pylist()
    if len(distinct) > 2 or any(len(word) > _SHORT for word in distinct):
        return None
    true = [w for w in distinct if w.lower() in _TRUE]
    false = [w for w in distinct if w.lower() in _FALSE]
    if len(true) != 1 or len(true) + len(false) != len(distinct):
        return None
    if not false and (len(present) == len(text) or true[0].lower() != "x"):
        return None  # a lone word is a mark only where some values are empty
    typed = _typed("boolean", true_values=tuple(true), false_values=tuple(false) or ("",))
    if typed is None:
        return None
    return _attempt(text, present if false else text, typed)


def _typed(name: str, **options: Any) -> ColumnType | None:
    """The type with a format of these options (defaults dropped); None where they do not
    make a valid one."""
    kept = {k: v for k, v in options.items() if v not in (None, (), False)}
    base = ColumnType.parse(name)
    try:
        return ColumnType(base.name, base.precision, base.scale, ValueFormat(**kept))
    except ValueError:
        return None


def _reads(values: pa.Array[Any], typed: ColumnType | None, mask: bool = False) -> Any:
    """Whether a type reads some of the values, or with `mask` which ones it reads."""
    if typed is None:
        return False
    read = pc.is_valid(cast_column(values, typed).values)
    return read if mask else bool(pc.any(read).as_py())


def _attempt(text: pa.Array[Any], present: pa.Array[Any], typed: ColumnType) -> Proposal:
    """The values a type reads, and the share of `present` (the values it should read)."""
    values = cast_column(text, typed).values
    valid = len(values) - values.null_count
    share = valid / len(present)
    options = typed.format.options() if typed.format else {}
    return Proposal(TypeGuess(str(typed), round(share, 4), len(present) - valid, options), values)


def _same(a: pa.Array[Any], b: pa.Array[Any]) -> bool:
    if a.type != b.type:
        a, b = pc.cast(a, pa.float64()), pc.cast(b, pa.float64())
    equal = pc.equal(a, b)
    both_null = pc.and_(pc.is_null(a), pc.is_null(b))
    return bool(pc.all(pc.or_(pc.fill_null(equal, False), both_null)).as_py())


def _share(values: pa.Array[Any], regex: str) -> float:
    if len(values) == 0:
        return 0.0
    return float(pc.sum(pc.match_substring_regex(values, regex)).as_py() or 0) / len(values)
