"""Time reading 1M values written in each format against the ISO (plain) text of the same
values, with the transform's own casting (`cast_column`), in batches as a stream gives them.

Run: .venv/bin/python bench/formats.py  (in process, no database; about a minute)

Each line: the format, its spec type, the best of 5 (CPU time) for the plain and the
formatted text (interleaved, so a busy machine slows both), and the ratio; the target is at
most 1.5x. Then strptime's cost (what reads the values not in their plain form, see
`connectors.transforms.moments`) on month names and AM/PM, value by value and each distinct
text once (dictionary encoded), per batch: dates repeat, times of day to the minute rarely do.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.spec.models import Transform
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column
from connectors.transforms.formats import read_moments
from connectors.types import ColumnType

ROWS = 1_000_000
BATCH = 131_072
RUNS = 5
TARGET = 1.5


def _dates(rng: np.random.Generator) -> list[date]:
    start = date(1990, 1, 1)
    return [start + timedelta(days=int(d)) for d in rng.integers(0, 20_000, ROWS)]


def _moments(rng: np.random.Generator) -> list[datetime]:
    # From 06:00 on: no wall time in a daylight saving gap (which a time zone rejects).
    start = datetime(1990, 1, 1, 6)
    days, minutes = rng.integers(0, 20_000, ROWS), rng.integers(0, 18 * 60, ROWS)
    return [
        start + timedelta(days=int(d), minutes=int(m)) for d, m in zip(days, minutes, strict=True)
    ]


def _money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _european(value: float) -> str:
    return f"{value:,.2f}".translate(str.maketrans(",.", ".,"))


def _cases() -> list[tuple[str, str, dict[str, Any], list[str], list[str]]]:
    """(label, type, format options, plain text, formatted text) per format."""
    rng = np.random.default_rng(0)
    days, moments = _dates(rng), _moments(rng)
    amounts = (rng.integers(-(10**8), 10**8, ROWS) / 100).tolist()
    shares = rng.integers(0, 10_000, ROWS) / 100
    flags = rng.integers(0, 2, ROWS).astype(bool).tolist()
    iso_days = [d.isoformat() for d in days]
    iso_moments = [m.strftime("%Y-%m-%d %H:%M") for m in moments]
    plain_amounts = [f"{a:.2f}" for a in amounts]

    def dated(pattern: str) -> tuple[dict[str, Any], list[str], list[str]]:
        return {"format": pattern}, iso_days, [d.strftime(pattern) for d in days]

    return [
        ("2024/03/05", "date", *dated("%Y/%m/%d")),
        ("03/05/2024", "date", *dated("%m/%d/%Y")),
        ("05.03.2024", "date", *dated("%d.%m.%Y")),
        ("Mar 5, 2024", "date", {"format": "%b %d, %Y"}, iso_days,
         [f"{d:%b} {d.day}, {d.year}" for d in days]),
        ("05.03.2024 13:07", "timestamp", {"format": "%d.%m.%Y %H:%M"}, iso_moments,
         [m.strftime("%d.%m.%Y %H:%M") for m in moments]),
        ("3/5/2024 1:07 PM", "timestamp", {"format": "%m/%d/%Y %I:%M %p"}, iso_moments,
         [f"{m.month}/{m.day}/{m.year} {m.hour % 12 or 12}:{m:%M %p}" for m in moments]),
        ("Amsterdam time", "timestamptz", {"timezone": "Europe/Amsterdam"}, iso_moments,
         iso_moments),
        ("1.234,56", "decimal(12,2)", {"decimal": ",", "thousands": "."}, plain_amounts,
         [_european(a) for a in amounts]),
        ("$1,234.50", "decimal(12,2)", {"currency": ["$"], "thousands": ","}, plain_amounts,
         [_money(a) for a in amounts]),
        ("45%", "float", {"percent": "fraction"}, [f"{s / 100:g}" for s in shares],
         [f"{s:g}%" for s in shares]),
        ("Y/N", "boolean", {"true_values": ["Y"], "false_values": ["N"]},
         ["true" if f else "false" for f in flags], ["Y" if f else "N" for f in flags]),
    ]  # fmt: skip


def _typed(name: str, options: dict[str, Any]) -> ColumnType:
    return Transform.model_validate({"types": {"c": {"type": name, **options}}}).types["c"]


def _batches(values: list[str]) -> list[pa.Array[Any]]:
    whole = pa.array(values, pa.string())
    return [whole.slice(at, BATCH) for at in range(0, ROWS, BATCH)]


def _once(batches: list[pa.Array[Any]], target: ColumnType) -> tuple[float, int]:
    # CPU time of this process: on a shared machine, waiting for a core is not parsing.
    started = time.process_time()
    casts = [cast_column(batch, target) for batch in batches]
    seconds = time.process_time() - started
    return seconds, sum(len(c.values) - c.values.null_count for c in casts)


def _best(
    plain: tuple[list[pa.Array[Any]], ColumnType], written: tuple[list[pa.Array[Any]], ColumnType]
) -> tuple[tuple[float, int], tuple[float, int]]:
    """The best of `RUNS` for each, run in turn."""
    best_plain = best_written = (float("inf"), 0)
    for _ in range(RUNS):
        best_plain = min(best_plain, _once(*plain))
        best_written = min(best_written, _once(*written))
    return best_plain, best_written


def _both_ways(cases: list[tuple[str, str, dict[str, Any], list[str], list[str]]]) -> None:
    """Month names and AM/PM read by strptime value by value, and each distinct text once."""
    print(f"\n{'strptime':<18}{'distinct':>9}{'each ms':>9}{'once ms':>9}")
    for label, _, options, _, written in cases:
        if label not in ("Mar 5, 2024", "3/5/2024 1:07 PM"):
            continue
        batches, pattern = _batches(written), (options["format"],)
        distinct = len(pc.unique(batches[0]))
        each = once = float("inf")
        for _ in range(RUNS):
            started = time.perf_counter()
            _ = [read_moments(batch, pattern) for batch in batches]
            each = min(each, time.perf_counter() - started)
            started = time.perf_counter()
            _ = [read_moments(batch, pattern, once=True) for batch in batches]
            once = min(once, time.perf_counter() - started)
        print(f"{label:<18}{distinct:>9}{each * 1000:>9.1f}{once * 1000:>9.1f}")


if __name__ == "__main__":
    print(f"{'format':<18}{'type':<15}{'plain ms':>9}{'format ms':>10}{'ratio':>7}")
    cases = _cases()
    for label, name, options, plain, written in cases:
        (iso, iso_read), (fmt, fmt_read) = _best(
            (_batches(plain), ColumnType.parse(name)), (_batches(written), _typed(name, options))
        )
        assert iso_read == fmt_read == ROWS, (label, iso_read, fmt_read)
        ratio = fmt / iso
        mark = "" if ratio <= TARGET else "  (over target)"
        print(f"{label:<18}{name:<15}{iso * 1000:>9.1f}{fmt * 1000:>10.1f}{ratio:>7.2f}{mark}")
    _both_ways(cases)
