"""The data-quality report: what would go wrong in a pipeline, and which rule handles it.

Counts are over the sampled rows (the whole source with `--full`). Each finding names
the transform rule that deals with it: `required` (nulls in a key), `dedupe` (repeated
keys), `ranges` (values out of range) or `types` (values that do not parse).
"""

from __future__ import annotations

import pyarrow as pa

from connectors.profiling.keys import duplicates
from connectors.profiling.model import ColumnProfile, Issue, Profile
from connectors.transforms.names import normalize_name

RARE = 0.01
"""Negative values are suspect when they are at most this share of a numeric column."""


def likely_key(profile: Profile) -> list[str]:
    """The key a pipeline would use: an id-named column (even one with duplicates, which the
    report then counts), else the first candidate."""
    named = [c.name for c in profile.columns if _id_like(c.name)]
    if named:
        return [next((n for n in named if [n] in profile.keys), named[0])]
    return profile.keys[0] if profile.keys else []


def report(profile: Profile, table: pa.Table) -> list[Issue]:
    """Every finding, key problems first."""
    issues = _key_issues(likely_key(profile), table)
    for column in profile.columns:
        issues.extend(_column_issues(column, table.num_rows))
    return issues


def _key_issues(key: list[str], table: pa.Table) -> list[Issue]:
    issues = []
    for name in key:
        nulls = table.column(name).null_count
        if nulls:
            detail = f"{nulls} of {table.num_rows} sampled rows have no {name}"
            issues.append(Issue("null key", name, nulls, "required", detail))
    repeated = duplicates(table, key) if key else 0
    if repeated:
        detail = f"{repeated} sampled rows repeat a key already seen; keep the last"
        issues.append(Issue("duplicate key", ", ".join(key), repeated, "dedupe", detail))
    return issues


def _column_issues(column: ColumnProfile, rows: int) -> list[Issue]:
    issues = []
    guess = column.inferred
    if guess.failures:
        detail = f"{guess.failures} values do not parse as {guess.type} ({guess.share:.1%} do)"
        issues.append(Issue("type failure", column.name, guess.failures, "types", detail))
    if column.negatives and column.negatives <= RARE * rows:
        detail = f"{column.negatives} negative values (min {column.min}): suggest min 0"
        issues.append(Issue("out of range", column.name, column.negatives, "ranges", detail))
    return issues


def _id_like(name: str) -> bool:
    snake = normalize_name(name, 1)
    return snake == "id" or snake.endswith("_id")
