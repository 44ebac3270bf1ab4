"""Naive wall times in an IANA time zone as UTC instants, by numpy.

Arrow's `assume_timezone` looks each value up in the zone's rules. Here the zone's changes of
offset (DST, and any other) are found once per span of years, then tabled by buckets of 2**36
µs of wall time (about 19 hours), each holding the offset at its start: a value finds its
offset with a shift and a gather. The few values in a bucket where the offset changes are
placed by the list of changes. The changes are the ones Arrow uses (its UTC-to-local
conversion, probed hourly and bisected to the second; tzdata's changes are days apart), so
both ways give the same instants: a wall time the zone skips has none, one it has twice is
the earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.transforms.arrow import bool_array, pc

_BUCKET = 36
_SECOND = 1_000_000
_HOUR = 3_600 * _SECOND
_NAIVE = pa.timestamp("us")
_YEARS = (2, 9998)
"""The years tabled (a year's neighbours are probed too), at most `_SPAN` at a time."""
_SPAN = 400


@dataclass(frozen=True)
class _Changes:
    """Where a zone's offset changes, in wall time (µs): `at` (the UTC instant plus the offset
    before), how far the clock jumps forward there (`gap`, 0 when it goes back) and the offset
    after (µs). The first change, long before any value, sets the offset the span starts with."""

    at: Any
    gap: Any
    after: Any

    def offsets(self, local: Any) -> tuple[Any, Any]:
        """Each wall time's offset (µs), and whether the zone skips it."""
        change = np.searchsorted(self.at, local, side="right") - 1
        return self.after[change], local - self.at[change] < self.gap[change]


@dataclass(frozen=True)
class _Table:
    """A zone's offsets over a span of years, per bucket of wall time from `first` on: the
    offset at the bucket's start, and whether it changes inside the bucket."""

    changes: _Changes
    first: int
    offsets: Any
    changing: Any


def to_utc(values: pa.Array[Any], zone: str) -> tuple[pa.Array[Any], pa.BooleanArray | None] | None:
    """Naive wall times (timestamp[us]) in `zone` as UTC instants (timestamp[us, tz=zone]),
    and the rows whose wall time the zone skips (None if none); None when no value is set,
    the values are not microseconds, or their years are beyond the table (Arrow reads those)."""
    if values.type != _NAIVE or values.null_count == len(values):
        return None
    bounds = pc.min_max(values.view(pa.int64())).as_py()
    low, high = _year(bounds["min"]), _year(bounds["max"])
    if low < _YEARS[0] or high > _YEARS[1] or high - low >= _SPAN:
        return None
    table = _table(zone, low, high)
    # In place where it can: a fresh array costs page faults worth several passes.
    local = _integers(values)
    index = local >> _BUCKET
    index -= table.first
    valid = pc.is_valid(values).to_numpy(zero_copy_only=False) if values.null_count else None
    if valid is not None:
        index[~valid] = 0  # whatever stood under a null, it must not index past the table
    changing = np.flatnonzero(np.take(table.changing, index))
    utc = np.take(table.offsets, index)
    np.subtract(local, utc, out=utc)
    missing = None
    if len(changing):
        offset, skipped = table.changes.offsets(local[changing])
        utc[changing] = local[changing] - offset
        if valid is not None:
            skipped &= valid[changing]
        if skipped.any():
            missing = np.zeros(len(values), bool)
            missing[changing[skipped]] = True
    keep = valid if missing is None else ~missing if valid is None else valid & ~missing
    bitmap = None if keep is None else bool_array(keep).buffers()[1]
    placed = pa.Array.from_buffers(
        pa.timestamp("us", tz=zone), len(values), [bitmap, pa.py_buffer(utc.data)]
    )
    return placed, None if missing is None else bool_array(missing)


def _integers(values: pa.Array[Any]) -> Any:
    """A timestamp array's microseconds, read-only (whatever stands under a null)."""
    data = values.buffers()[1]
    assert data is not None
    return np.frombuffer(memoryview(data), np.int64, len(values), values.offset * 8)


def _year(micros: int) -> int:
    return int(np.datetime64(micros, "us").astype("datetime64[Y]").astype(np.int64)) + 1970


def _new_year(year: int) -> int:
    """January 1 of `year`, 00:00, in µs since 1970."""
    return int(np.datetime64(f"{year:04d}-01-01", "us").astype(np.int64))


@lru_cache(maxsize=8)
def _table(zone: str, low: int, high: int) -> _Table:
    """The offsets of the wall times from January 1 of `low` to the end of `high`."""
    changes = _changes(zone, low, high)
    first, last = _new_year(low) >> _BUCKET, (_new_year(high + 1) >> _BUCKET) + 1
    buckets = np.arange(first, last + 1, dtype=np.int64)
    offsets, _ = changes.offsets(buckets << _BUCKET)
    # A bucket where the offset changes, or that a gap reaches into, is read change by change.
    changing = np.zeros(len(buckets), bool)
    for at, gap in zip(changes.at, changes.gap, strict=True):
        begin, end = (at >> _BUCKET) - first, ((at + gap) >> _BUCKET) - first + 1
        changing[max(begin, 0) : max(end, 0)] = True
    return _Table(changes, int(first), offsets, changing)


def _changes(zone: str, low: int, high: int) -> _Changes:
    """The zone's changes from the year before `low` to the year after `high`."""
    start = np.array([_new_year(low - 1)])
    first = _offsets(start, zone)
    years = [(start - _HOUR * 24 * 366, first, first)]
    years += [_year_changes(zone, year) for year in range(low - 1, high + 2)]
    instants, before, after = (np.concatenate(part) for part in zip(*years, strict=True))
    return _Changes(instants + before, np.maximum(after - before, 0), after)


@lru_cache(maxsize=1024)
def _year_changes(zone: str, year: int) -> tuple[Any, Any, Any]:
    """The UTC instants (µs) in `year` where the offset Arrow gives changes, and the offsets
    before and after (µs)."""
    probes = np.arange(_new_year(year), _new_year(year + 1) + 1, _HOUR, dtype=np.int64)
    offsets = _offsets(probes, zone)
    changed = np.flatnonzero(offsets[1:] != offsets[:-1])
    before, after = offsets[changed], offsets[changed + 1]
    low, high = probes[changed] // _SECOND, probes[changed + 1] // _SECOND
    while (high - low > 1).any():
        middle = (low + high) // 2
        moved = _offsets(middle * _SECOND, zone) == after
        low, high = np.where(moved, low, middle), np.where(moved, middle, high)
    return high * _SECOND, before, after


def _offsets(instants: Any, zone: str) -> Any:
    """The zone's offset (µs) at each UTC instant (µs), as Arrow converts it to local time."""
    zoned = pa.Array.from_buffers(
        pa.timestamp("us", tz=zone), len(instants), [None, pa.py_buffer(instants.data)]
    )
    return _integers(pc.local_timestamp(zoned)) - instants
