"""Numbers in a declared format, read by numpy over a string array's buffers.

A format (decimal and thousands separators, currency symbols or codes, percent, accounting
parentheses) becomes an automaton over bytes that accepts a value's plain forms: a sign or
parentheses, one currency token before or after the number (a space between them where the
format's own reading allows one), digits grouped by three with the thousands separator or
not at all, a decimal part of at least one digit, a `%`. Every row is read a byte position
at a time (a gather, a table lookup for the state) and its digits accumulate as they pass:
a value is its digits as an integer, how many stand after the separator, and its sign. For a
decimal that is exact; for a float it is strtod's exact case (digits below 2**53, at most 22
after the point, divided by a power of ten). What the automaton does not accept (whitespace
around a value, a token twice, more than 18 digits, ...) is left to the reading of
`connectors.transforms.formats.plain_number`, which says whether it reads at all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.formats import ValueFormat
from connectors.transforms.arrow import bool_array
from connectors.types import ColumnType

_DIGITS = b"0123456789"
_WIDEST = 40
"""Longer values (no plain number is) are left to the other reading."""
_MOST_DIGITS = 18
_EXACT_FLOAT = 2**53
_INT32 = 2**31
_POWERS = 10 ** np.arange(_MOST_DIGITS + 1, dtype=np.int64)
_FLOAT_POWERS = 10.0 ** np.arange(23)

_Part = tuple[int, int]


class _Automaton:
    """A nondeterministic automaton over bytes, built from parts (a start and an end state)."""

    def __init__(self) -> None:
        self.moves: list[dict[int, set[int]]] = []
        self.free: list[set[int]] = []

    def _state(self) -> int:
        self.moves.append({})
        self.free.append(set())
        return len(self.moves) - 1

    def _link(self, start: int, end: int, byte: int | None = None) -> None:
        if byte is None:
            self.free[start].add(end)
        else:
            self.moves[start].setdefault(byte, set()).add(end)

    def text(self, *options: bytes) -> _Part:
        """One of the byte strings."""
        start, end = self._state(), self._state()
        for option in options:
            at = start
            for byte in option[:-1]:
                step = self._state()
                self._link(at, step, byte)
                at = step
            self._link(at, end, option[-1])
        return start, end

    def byte(self, options: bytes) -> _Part:
        """One of the bytes."""
        return self.text(*(bytes([b]) for b in options))

    def seq(self, *parts: _Part) -> _Part:
        for (_, end), (start, _) in pairwise(parts):
            self._link(end, start)
        return parts[0][0], parts[-1][1]

    def either(self, *parts: _Part) -> _Part:
        start, end = self._state(), self._state()
        for first, last in parts:
            self._link(start, first)
            self._link(last, end)
        return start, end

    def maybe(self, part: _Part) -> _Part:
        start, end = self.either(part)
        self._link(start, end)
        return start, end

    def repeat(self, part: _Part) -> _Part:
        """The part, once or more."""
        self._link(part[1], part[0])
        return part

    def _closure(self, states: set[int]) -> frozenset[int]:
        reached, todo = set(states), list(states)
        while todo:
            for state in self.free[todo.pop()] - reached:
                reached.add(state)
                todo.append(state)
        return frozenset(reached)

    def table(self, part: _Part) -> tuple[Any, Any] | None:
        """The deterministic automaton: the next state for each state and byte (0: refused,
        1: the start) as a flat uint8 table (state * 256 + byte), and which states accept;
        None beyond 255 states. Byte 0 leaves every state as it is: it marks a row's end."""
        first = self._closure({part[0]})
        numbers = {first: 1}
        rows: dict[int, dict[int, int]] = {}
        todo = [first]
        while todo:
            current = todo.pop()
            targets: defaultdict[int, set[int]] = defaultdict(set)
            for state in current:
                for byte, reached in self.moves[state].items():
                    targets[byte] |= reached
            row = rows.setdefault(numbers[current], {})
            for byte, reached in targets.items():
                following = self._closure(reached)
                if following not in numbers:
                    numbers[following] = len(numbers) + 1
                    todo.append(following)
                row[byte] = numbers[following]
        if len(numbers) > 255:
            return None
        table = np.zeros((len(numbers) + 1, 256), np.uint8)
        for state, row in rows.items():
            table[state, list(row)] = list(row.values())
        table[:, 0] = np.arange(len(table))
        accepting = np.zeros(len(numbers) + 1, bool)
        accepting[[n for states, n in numbers.items() if part[1] in states]] = True
        return table.ravel(), accepting


@dataclass(frozen=True)
class _Grammar:
    """A format's automaton (`_Automaton.table`), and the last byte position where a value
    in a plain form may hold its sign or opening parenthesis."""

    table: Any
    accepting: Any
    signs: int


@lru_cache(maxsize=64)
def _grammar(fmt: ValueFormat, fraction: bool) -> _Grammar | None:
    """The table of a format's plain forms (with a decimal part if `fraction`); None when its
    currency tokens hold one another or the thousands separator (the other reading finds a
    token by its first occurrence, which this one could not follow)."""
    tokens = [token.encode() for token in fmt.currency]
    separator = (fmt.thousands or "").encode()
    for token in tokens:
        if (separator and separator in token) or any(o != token and o in token for o in tokens):
            return None
    nfa = _Automaton()

    def number() -> _Part:
        digits = nfa.repeat(nfa.byte(_DIGITS))
        if separator:
            group = nfa.seq(nfa.text(separator), *(nfa.byte(_DIGITS) for _ in range(3)))
            first = nfa.seq(nfa.byte(_DIGITS), nfa.maybe(nfa.byte(_DIGITS)))
            first = nfa.seq(first, nfa.maybe(nfa.byte(_DIGITS)))
            digits = nfa.either(digits, nfa.seq(first, nfa.repeat(group)))
        if fraction:
            point = nfa.seq(nfa.text(fmt.decimal.encode()), nfa.repeat(nfa.byte(_DIGITS)))
            digits = nfa.seq(digits, nfa.maybe(point))
        if fmt.percent:
            digits = nfa.seq(digits, nfa.maybe(nfa.seq(nfa.maybe(nfa.text(b" ")), nfa.text(b"%"))))
        return digits

    def sign() -> _Part:
        return nfa.byte(b"-+")

    def money() -> _Part:
        return nfa.text(*tokens)

    def space() -> _Part:
        return nfa.maybe(nfa.text(b" "))

    forms = [nfa.seq(nfa.maybe(sign()), number())]
    if fmt.accounting:
        forms.append(nfa.seq(nfa.text(b"("), number(), nfa.text(b")")))
    if tokens:
        forms += [
            nfa.seq(nfa.maybe(sign()), money(), number()),  # $12, -$12
            nfa.seq(nfa.maybe(sign()), number(), space(), money()),  # 12 €, -12€, 45% €
            nfa.seq(money(), space(), nfa.maybe(sign()), number()),  # € 12, $-12, € -12
        ]
    if tokens and fmt.accounting:
        forms += [
            nfa.seq(nfa.text(b"("), money(), number(), nfa.text(b")")),  # ($12)
            nfa.seq(nfa.text(b"("), number(), money(), nfa.text(b")")),  # (12$), no space
            nfa.seq(money(), nfa.text(b"("), number(), nfa.text(b")")),  # $(12)
            nfa.seq(nfa.text(b"("), number(), nfa.text(b")"), space(), money()),  # (12) $
        ]
    found = nfa.table(nfa.either(*forms))
    signs = max((len(token) for token in tokens), default=0) + 1  # € -12, $(12)
    return None if found is None else _Grammar(*found, signs)


@dataclass(frozen=True)
class _Read:
    """What the automaton read: the rows it accepts, each one's digits as an integer, how
    many digits it has and how many stand after the separator, and its sign."""

    ok: Any
    digits: Any
    count: Any
    fraction: Any
    negative: Any

    def signed(self, magnitude: Any) -> Any:
        """A magnitude per row with the row's sign (-0.0 for a float's -0)."""
        return magnitude * (1 - 2 * self.negative.view(np.int8))


def _scan(text: pa.Array[Any], grammar: _Grammar, point: int | None) -> _Read | None:
    """Every row walked through the automaton a byte position at a time; `point` is the
    decimal separator (None: the type has no decimal part). None if the text holds a byte 0
    (which the walk reads as a row's end)."""
    _, offsets, data = text.buffers()
    assert offsets is not None
    bounds = np.frombuffer(memoryview(offsets), np.int32, len(text) + 1, text.offset * 4)
    starts, lengths = bounds[:-1].astype(np.int64), np.diff(bounds)
    buffer = np.frombuffer(memoryview(data), np.uint8) if data else np.zeros(1, np.uint8)
    if not buffer[bounds[0] : bounds[-1]].all():
        return None
    size = len(text)
    state, digits = np.ones(size, np.uint8), np.zeros(size, np.int64)
    count, fraction = np.zeros(size, np.uint8), np.zeros(size, np.uint8)
    pointed, negative = np.zeros(size, bool), np.zeros(size, bool)
    for at in range(min(int(lengths.max(initial=0)), _WIDEST)):
        rest = buffer[at:]
        byte = np.take(rest, starts, mode="clip") if len(rest) else np.zeros(size, np.uint8)
        byte *= lengths > at
        state = np.take(grammar.table, (state.astype(np.uint16) << 8) | byte)
        digit = byte - 48
        is_digit = digit < 10
        # digits * 10 + digit on a digit, digits as they are elsewhere: no branch per row
        digits *= 1 + 9 * is_digit.view(np.uint8)
        digits += digit * is_digit
        count += is_digit
        if point is not None:
            pointed |= byte == point
            fraction += is_digit & pointed
        if at <= grammar.signs:
            negative |= (byte == ord("-")) | (byte == ord("("))
    ok = grammar.accepting[state] & (lengths <= _WIDEST) & (count <= _MOST_DIGITS)
    return _Read(ok, digits, count, fraction, negative)


def read(text: pa.Array[Any], target: ColumnType) -> tuple[pa.Array[Any], Any] | None:
    """The values in a plain form of the target's format, typed as the target (null
    elsewhere), and the other non-null rows (a numpy mask); None when the text is not a
    plain string array or the format is one this reading cannot follow."""
    fmt = target.format
    assert fmt is not None
    if not pa.types.is_string(text.type):
        return None
    fraction = target.name in ("float", "decimal")
    grammar = _grammar(fmt, fraction)
    if grammar is None:
        return None
    scanned = _scan(text, grammar, ord(fmt.decimal) if fraction else None)
    if scanned is None:
        return None
    valid = np.ones(len(text), bool)
    if text.null_count:
        valid = np.asarray(text.is_valid().to_numpy(zero_copy_only=False))
    if target.name == "decimal":
        assert target.precision is not None and target.scale is not None
        scale = target.scale - 2 if fmt.percent == "fraction" else target.scale
        values, ok = _decimal(scanned, target.precision, scale)
    elif target.name == "float":
        values, ok = _float(scanned, fmt.percent == "fraction")
    else:
        values, ok = _integer(scanned, target.name == "integer")
    ok &= valid
    bitmap = None if ok.all() else bool_array(ok).buffers()[1]
    array = pa.Array.from_buffers(target.arrow(), len(text), [bitmap, pa.py_buffer(values.data)])
    return array, valid & ~ok


def _decimal(read: _Read, precision: int, scale: int) -> tuple[Any, Any]:
    """Decimal128 records of the values at `scale`: extra fraction digits rounded half away
    from zero (as the other reading does), and only what has `precision` digits at most."""
    ok, value = read.ok.copy(), read.digits
    fraction = read.fraction.astype(np.int64)
    if (fraction != scale).any():
        short = fraction <= scale
        # Scaling up must stay within 18 digits; scaling down rounds on the first digit cut.
        ok &= ~short | (read.count.astype(np.int64) + scale - fraction <= _MOST_DIGITS)
        power = _POWERS[np.clip(np.abs(scale - fraction), 0, _MOST_DIGITS)]
        kept, cut = np.divmod(value, power)
        value = np.where(short, value * power, kept + (2 * cut >= power))
    if precision <= _MOST_DIGITS:
        ok &= value < _POWERS[precision]
    signed = read.signed(value)
    records = np.empty((len(signed), 2), np.int64)
    records[:, 0] = signed
    records[:, 1] = signed >> 63
    return records, ok


def _float(read: _Read, fraction_of_100: bool) -> tuple[Any, Any]:
    ok = read.ok & (read.digits <= _EXACT_FLOAT) & (read.fraction < len(_FLOAT_POWERS))
    value = read.digits / _FLOAT_POWERS[np.minimum(read.fraction, len(_FLOAT_POWERS) - 1)]
    if fraction_of_100:
        value /= 100.0
    return read.signed(value), ok


def _integer(read: _Read, small: bool) -> tuple[Any, Any]:
    ok = read.ok & (read.fraction == 0)
    if small:
        ok &= read.digits <= _INT32 - 1 + read.negative
        return read.signed(read.digits).astype(np.int32), ok
    return read.signed(read.digits), ok
