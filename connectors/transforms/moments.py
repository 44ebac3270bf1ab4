"""Dates and timestamps in a strptime pattern, read by numpy over a string array's buffers.

A pattern of numbers (`%Y %y %m %d %e %H %I %M %S`), English month names (`%b %B`), AM/PM
(`%p`) and literal bytes is read with one cursor per row, a token at a time: each step is a
gather of one byte per row and a few array operations, never a Python loop per value. The
steps after the last number of one or two digits have a fixed width: they are read back
from each row's end, so that no offset moves for that number. The cursor accepts only a
value's plain form: the pattern's literals byte for byte (one space for a space), one or
two digits for a number (two for `%M` and `%S`; four for `%Y`, from 1000 on), a month's
three-letter English abbreviation in any case, a real calendar day and seconds below 60.
Whatever it accepts, glibc's strptime reads as the same moment; the rows it does not accept
are left to strptime (`connectors.transforms.formats`), which says whether they read at all.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

_NUMBERS = {  # directive: (field, smallest, largest, digits: 1 means 1 or 2)
    "Y": ("Y", 1000, 9999, 4),
    "y": ("y", 0, 99, 1),
    "m": ("m", 1, 12, 1),
    "d": ("d", 1, 31, 1),
    "e": ("d", 1, 31, 1),
    "H": ("H", 0, 23, 1),
    "I": ("I", 1, 12, 1),
    "M": ("M", 0, 59, 2),
    "S": ("S", 0, 59, 2),
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ABBREVIATED = np.zeros(1 << 15, np.uint8)
"""A month's number at its three first letters (`a` is 0), 5 bits each."""
for _m, _name in enumerate(_MONTHS, 1):
    _ABBREVIATED[sum((ord(c) - ord("a")) << 5 * k for k, c in enumerate(_name))] = _m
_TOKEN = re.compile(r"%(.)|(.)", re.DOTALL)
_FIRST_YEAR = 1000


@dataclass(frozen=True)
class _Token:
    """One step of a pattern: a number, a month name, AM/PM or a literal byte."""

    kind: str  # "number", "name", "ampm" or "byte"
    field: str = ""
    low: int = 0
    high: int = 0
    digits: int = 0
    byte: int = 0


@lru_cache(maxsize=64)
def tokens(pattern: str) -> tuple[_Token, ...] | None:
    """A pattern's steps; None if it has a directive the cursor does not read, a directive
    twice, %p without %I (or with %H), or lacks a year, month or day."""
    steps: list[_Token] = []
    for directive, literal in _TOKEN.findall(pattern):
        if directive in _NUMBERS:
            steps.append(_Token("number", *_NUMBERS[directive]))
        elif directive in ("b", "B"):
            steps.append(_Token("name", field="m"))
        elif directive == "p":
            steps.append(_Token("ampm", field="p"))
        elif directive:
            return None
        else:
            steps.extend(_Token("byte", byte=b) for b in literal.encode())
    fields = [step.field for step in steps if step.field]
    has = set(fields)
    if len(fields) != len(has) or not ({"m", "d"} <= has and has & {"Y", "y"}):
        return None
    if ("p" in has) != ("I" in has) or {"H", "I"} <= has:
        return None
    return tuple(steps)


@lru_cache(maxsize=64)
def fast_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The patterns whose plain values the cursor may read before strptime sees them.

    strptime takes the first pattern that reads a value. A value the cursor accepts holds
    exactly its pattern's punctuation, and strptime's numbers, names and AM/PM consume no
    punctuation (only `%z` does): an earlier pattern whose punctuation is not all in it
    cannot read it. A pattern after one with %z, or whose punctuation an earlier one's
    fits in, is left to strptime.
    """
    chosen = []
    for at, pattern in enumerate(patterns):
        earlier = patterns[:at]
        if tokens(pattern) is None or any("%z" in before for before in earlier):
            continue
        own = _punctuation(pattern)
        if all(_punctuation(before) - own for before in earlier):
            chosen.append(pattern)
    return tuple(chosen)


def _punctuation(pattern: str) -> Counter[str]:
    literals = "".join(literal for _, literal in _TOKEN.findall(pattern.replace("%%", "%")))
    return Counter(char for char in literals if not (char.isalnum() or char.isspace()))


def scan(text: pa.Array[Any], pattern: str, rows: Any, day: bool) -> tuple[Any, Any]:
    """The rows among `rows` (a numpy mask) whose text is the plain form of a moment in
    `pattern`, and the moments (0 elsewhere): days since 1970 (int32) if `day`, else
    microseconds (int64)."""
    steps = tokens(pattern)
    assert steps is not None, pattern
    last, tail = _tail(pattern)
    cursor = _Cursor(text, rows)
    fields: dict[str, Any] = {}
    for at, step in enumerate(steps):
        if step.kind == "byte":
            cursor.expect(step.byte)
        elif not cursor.ok.any():
            break
        elif step.kind == "number":
            fields[step.field] = cursor.number(step, tail if at == last else None)
        elif step.kind == "name":
            fields["m"] = cursor.month(_reads_letters(steps[at + 1 : at + 2]))
        else:
            fields["p"] = cursor.afternoon()
    cursor.finish()
    if not cursor.ok.any():
        return cursor.ok, np.zeros(len(text), np.int32 if day else np.int64)
    read = _days(fields, cursor.ok)
    if not day:
        read = _moments(read, fields)
    if not cursor.ok.all():
        read *= cursor.ok
    return cursor.ok, read


_WIDTHS = {"byte": 1, "name": 3, "ampm": 2}


@lru_cache(maxsize=64)
def _tail(pattern: str) -> tuple[int | None, int]:
    """The last step of one or two digits and how many bytes the steps after it take, if a
    byte that is not a digit follows it (where strptime's number stops too): those steps
    are read back from each row's end. (None, 0) where there is no such step."""
    steps = tokens(pattern) or ()
    for at in range(len(steps) - 1, -1, -1):
        step = steps[at]
        if step.kind == "number" and step.digits == 1:
            after = steps[at + 1 : at + 2]
            if not after or after[0].kind != "byte" or chr(after[0].byte).isdigit():
                return None, 0
            rest = steps[at + 1 :]
            return at, sum(_WIDTHS.get(s.kind, s.digits) for s in rest)
    return None, 0


class _Cursor:
    """Where each row's reading stands: `ahead` bytes (the same for every row) past `at`, a
    byte offset per row, or, while every row is `width` bytes long and every field so far
    had its full width, past row k's start, `first + k * width` (no offset to gather by).
    `at` is each row's start moved on by `moved`, the bytes its numbers took beyond one
    digit each, until `to_end` moves it to where the steps left begin (`at_end`)."""

    def __init__(self, text: pa.Array[Any], rows: Any) -> None:
        _, offsets, data = text.buffers()
        assert offsets is not None
        self.bounds = np.frombuffer(memoryview(offsets), np.int32, len(text) + 1, text.offset * 4)
        self.data = np.frombuffer(memoryview(data), np.uint8) if data else np.zeros(1, np.uint8)
        self.first = int(self.bounds[0])
        self.lengths = self.bounds[1:] - self.bounds[:-1]
        self.width = int(self.lengths[0]) if len(text) else 0
        uniform = (self.lengths == self.width).all()
        self.at = None if uniform else self.bounds[:-1].astype(np.intp)
        self.moved: Any = None
        self.at_end = False
        # An empty row is refused at the end, where no reading stops at its start.
        self.ok = rows.copy()
        self.ahead = 0

    def byte(self, ahead: int = 0) -> Any:
        """Each row's byte `ahead` of the cursor (past a row's end: the next row's)."""
        if self.at is not None:
            rest = self.data[self.ahead + ahead :]
            if not len(rest):
                return np.zeros(len(self.ok), np.uint8)
            # Out of the buffer (a row too short for its pattern) `wrap` reads some byte, for
            # a tenth less than `clip`; `np.take` wraps the method in a Python call.
            return rest.take(self.at, mode="wrap")
        if self.ahead + ahead >= self.width:
            return np.zeros(len(self.ok), np.uint8)
        start = self.first + self.ahead + ahead
        return self.data[start : start + len(self.ok) * self.width : self.width]

    def shift(self, extra: Any) -> None:
        """Move each row's cursor on by `extra` (0 or 1) more bytes."""
        if self.at is None:
            if extra.all():
                self.ahead += 1
                return
            self.at = np.arange(len(self.ok), dtype=np.intp)
            self.at *= self.width
            self.at += self.first
        self.at += extra
        extra = extra.view(np.uint8)
        self.moved = extra if self.moved is None else self.moved + extra

    def to_end(self, extra: Any, rest: int) -> None:
        """Go on at `rest` bytes before each row's end: keep the rows whose reading so far,
        `extra` (0 or 1) more bytes for each, stops there."""
        if self.at is None:
            gap = self.width - rest - self.ahead
            self.ok &= extra if gap == 1 else ~extra if gap == 0 else np.False_
            self.ahead = max(self.width - rest, 0)  # rows too short are refused: read any
            return
        gap = self._left(rest)
        gap -= self.ahead
        self.ok &= gap == extra
        self.at = self.bounds[1:].astype(np.intp)
        self.at -= rest
        self.ahead, self.at_end = 0, True

    def finish(self) -> None:
        """Keep the rows read to their end."""
        if self.at is None:
            self.ok &= self.ahead == self.width
        elif not self.at_end:
            self.ok &= self._left(0) == self.ahead

    def _left(self, rest: int) -> Any:
        """How many bytes each row has past `at`, but the last `rest`."""
        left = self.lengths - np.int32(rest)
        if self.moved is not None:
            left -= self.moved
        return left

    def expect(self, byte: int) -> None:
        self.ok &= self.byte() == byte
        self.ahead += 1

    def number(self, step: _Token, rest: int | None = None) -> Any:
        """One or two digits (exactly two for minutes and seconds, four for a year), in the
        step's range; with `rest`, the bytes after them are read back from each row's end
        (`to_end`)."""
        first = self.byte() - 48
        if step.digits == 4:  # 1000 to 9999: a first digit from 1 and three more
            tens, hundreds, units = (self.byte(ahead) - 48 for ahead in (1, 2, 3))
            self.ok &= (first - 1 < 9) & (np.maximum(np.maximum(tens, hundreds), units) < 10)
            self.ahead += 4
            first *= 10
            first += tens
            hundreds *= 10
            hundreds += units
            year = first.astype(np.uint16)
            year *= 100
            year += hundreds
            return year
        if step.digits == 2:
            second = self.byte(1) - 48
            self.ok &= np.maximum(first, second) < 10
            value = first * 10 + second
            self.ahead += 2
        else:
            self.ok &= first < 10
            second = self.byte(1) - 48
            two = second < 10
            if self.at is None and two.all():
                value = first * 10 + second
            else:
                second += first * 9
                second *= two.view(np.uint8)
                value = first + second  # first * 10 + second where two
            self.ahead += 1
            if rest is None:
                self.shift(two)
            else:
                self.to_end(two, rest)
        # One comparison for both bounds: below the lowest, the difference wraps round.
        if step.low:
            self.ok &= (value - value.dtype.type(step.low)) <= step.high - step.low
        else:
            self.ok &= value <= step.high
        return value

    def month(self, lookahead: bool) -> Any:
        """A month's three-letter English abbreviation, in any case: its number. A whole name,
        `March`, is left to strptime: refused here by the next step, or by a look at the
        next byte (`lookahead`) where the next step could read a letter."""
        # Each letter as 0 to 25, in any case; any other byte wraps round to 26 or more.
        first, second, third = ((self.byte(ahead) | 0x20) - ord("a") for ahead in range(3))
        self.ok &= np.maximum(np.maximum(first, second), third) < 26
        key = first.astype(np.uint16)
        for letter, shift in ((second, 5), (third, 10)):
            wide = letter.astype(np.uint16)
            wide <<= shift
            key |= wide
        month = np.take(_ABBREVIATED, key, mode="wrap")
        self.ok &= month > 0
        if lookahead:
            self.ok &= ~_letter(self.byte(3))
        self.ahead += 3
        return month

    def afternoon(self) -> Any:
        """AM or PM in any case: whether PM."""
        first, second = self.byte() | 0x20, self.byte(1) | 0x20
        self.ok &= ((first == ord("a")) | (first == ord("p"))) & (second == ord("m"))
        self.ahead += 2
        return first == ord("p")


def _reads_letters(following: tuple[_Token, ...]) -> bool:
    """Whether the step after a month name (none at the pattern's end) could read a letter."""
    if not following:
        return False
    step = following[0]
    return step.kind in ("name", "ampm") or (step.kind == "byte" and chr(step.byte).isalpha())


def _letter(byte: Any) -> Any:
    return (byte | 0x20) - ord("a") < 26


def _days(fields: dict[str, Any], ok: Any) -> Any:
    """Days since 1970 of the date read; drops from `ok` the days the month lacks."""
    if "Y" in fields:
        index = fields["Y"].astype(np.int32)
    else:  # %y: 69-99 are 19xx, 00-68 20xx
        index = fields["y"].astype(np.int32) + 1900 + 100 * (fields["y"] < 69)
    index *= 12
    index += fields["m"].astype(np.int32)
    found = np.take(_months(), index, mode="wrap")
    day = fields["d"].astype(np.int32)
    ok &= day <= found & 31
    found >>= 5
    found += day
    return found


def _moments(days: Any, fields: dict[str, Any]) -> Any:
    """Microseconds since 1970 of the days and the time of day read, each step in the
    narrowest integers that hold it (a fresh wide array costs more than the arithmetic)."""
    hour = fields.get("H")
    if "I" in fields:  # 12 AM is hour 0, 12 PM hour 12
        hour = fields["I"] - (fields["I"] == 12).view(np.uint8) * np.uint8(12)
        hour += fields["p"].view(np.uint8) * np.uint8(12)
    minutes: Any = np.uint16(0) if hour is None else hour.astype(np.uint16)
    minutes *= 60
    if "M" in fields:
        minutes += fields["M"]
    read = days.astype(np.int64)
    read *= 1440
    read += minutes
    if "S" not in fields:
        read *= 60_000_000
        return read
    read *= 60
    read += fields["S"]
    read *= 1_000_000
    return read


@lru_cache(maxsize=1)
def _months() -> Any:
    """Each month from 1000 to 9999 in one int32 at `year * 12 + month`: the days since
    1970-01-01 of the day before its first, shifted left by 5 bits, and its number of days."""
    firsts = _first_days()
    months = np.zeros(_FIRST_YEAR * 12 + 1 + len(firsts) - 1, np.int32)
    months[_FIRST_YEAR * 12 + 1 :] = ((firsts[:-1] - 1) << 5) | np.diff(firsts)
    return months


def _first_days() -> Any:
    """Days since 1970-01-01 of the first of each month from 1000 to 9999, and of 10000's
    January (H. Hinnant's days_from_civil)."""
    months = np.arange(12 * (10_000 - _FIRST_YEAR) + 1)
    year, month = _FIRST_YEAR + months // 12 - (months % 12 < 2), months % 12 + 1
    era, of_era = year // 400, year % 400
    of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5
    days = era * 146_097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719_468
    return days.astype(np.int32)
