"""Candidate primary keys and incremental cursors, found in a sample.

A key candidate is unique and non-null in the rows seen (a sample can only rule keys
out, never prove one). A cursor candidate is a timestamp, date or integer column whose
values, in source order, almost never go back: what a watermark can follow. A modification
time is a timestamp named as one (`updated_at`, `last_modified`): the only cursor an upsert
can follow, since a changed row keeps its id and its creation time, so a watermark on
those never reads it again (`cursor_for`).
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any

import pyarrow as pa

from connectors.profiling.columns import plain
from connectors.profiling.model import ColumnProfile, Profile
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column
from connectors.transforms.names import normalize_name
from connectors.types import holds_json

MONOTONIC = 0.99
"""Share of consecutive steps that must not go back for a cursor."""
DISTINCT = 0.5
"""Least share of distinct values among a cursor's sampled values."""
_PAIR_COLUMNS = 8
_KEYABLE = ("integer", "bigint", "string", "date", "timestamp", "timestamptz")
_CURSOR_TYPES = ("timestamp", "timestamptz", "date", "integer", "bigint")
_MODIFIED_TYPES = ("timestamp", "timestamptz")
"""A date is too coarse: the watermark is exclusive, so a later change on its day is lost."""
_MODIFIED_WORD = re.compile(r"(?:updat|modif|chang)\w*|edit(?:ed)?|mtime")
"""A word of a modification time's name (`updated_at`, `LastModified`, `change_time`)."""


def candidate_keys(table: pa.Table, columns: list[ColumnProfile]) -> list[list[str]]:
    """Single columns that are unique and non-null; else pairs of such-like columns."""
    rows = table.num_rows
    if not rows:
        return []
    usable = [c for c in columns if not c.nullable and c.inferred.type.split("(")[0] in _KEYABLE]
    singles = [[c.name] for c in usable if _unique(table, [c.name])]
    if singles:
        return sorted(singles, key=lambda key: _key_rank(key[0]))
    ordered = sorted(usable, key=lambda c: -(c.distinct.value or 0))[:_PAIR_COLUMNS]
    pairs = [[a.name, b.name] for a, b in combinations(ordered, 2)]
    return [pair for pair in pairs if _unique(table, pair)][:3]


def duplicates(table: pa.Table, key: list[str]) -> int:
    """Rows whose key value was already seen in the sample (nulls ignored)."""
    present = table.select(key).drop_null()
    groups = present.group_by(key).aggregate([])
    return present.num_rows - groups.num_rows


def _unique(table: pa.Table, key: list[str]) -> bool:
    return duplicates(table, key) == 0 and table.select(key).drop_null().num_rows == table.num_rows


def _key_rank(name: str) -> tuple[int, str]:
    """Names that say "identifier" first: `id`, then `*_id`, then the others."""
    lowered = name.lower()
    return (0 if lowered == "id" else 1 if lowered.endswith("_id") else 2, name)


def candidate_cursors(table: pa.Table, columns: list[ColumnProfile]) -> list[str]:
    """Columns whose values grow in source order (timestamps before integers)."""
    found = []
    for column in columns:
        if column.inferred.type not in _CURSOR_TYPES or column.null_ratio > 0:
            continue
        target = column.inferred.column_type()
        if _monotonic(cast_column(plain(table.column(column.name)), target).values):
            found.append(column.name)
    return sorted(found, key=lambda name: _CURSOR_TYPES.index(_type_of(columns, name)))


def modification_times(columns: list[ColumnProfile]) -> list[str]:
    """Timestamps without nulls named as a row's modification time (`updated_at`,
    `LastModified`, `change_time`... not `created_at`)."""
    return [
        column.name
        for column in columns
        if column.inferred.type in _MODIFIED_TYPES
        and column.null_ratio == 0
        and any(map(_MODIFIED_WORD.fullmatch, normalize_name(column.name, 1).split("_")))
    ]


def cursor_for(profile: Profile, upsert: bool) -> str | None:
    """The incremental cursor a drafted stream follows (by source name): an upsert follows
    a modification time or nothing (it then re-reads the source, and every changed row with
    it); an append follows the first cursor that grows in source order, which suits a
    source whose rows are only ever added."""
    if upsert:
        return profile.modified[0] if profile.modified else None
    return profile.cursors[0] if profile.cursors else None


def _monotonic(values: pa.Array[Any]) -> bool:
    present = pc.drop_null(values)
    # Many ties (a year, a status date) would let rows at the watermark slip through.
    if len(present) < 3 or pc.count_distinct(present).as_py() < DISTINCT * len(present):
        return False
    steps = pc.greater_equal(present[1:], present[:-1])
    return float(pc.mean(pc.cast(steps, pa.float64())).as_py() or 0) >= MONOTONIC


def _type_of(columns: list[ColumnProfile], name: str) -> str:
    return next(c.inferred.type for c in columns if c.name == name)


def nested_fields(table: pa.Table) -> list[str]:
    """Columns holding structs, lists or maps (a JSON or REST source's nesting)."""
    return [field.name for field in table.schema if holds_json(field.type)]
