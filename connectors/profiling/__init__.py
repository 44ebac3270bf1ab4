"""Profiling: look at a source's data before writing a pipeline for it.

`profile(spec, ctx)` samples the source within a fixed budget (see `sample`), profiles
every column, finds candidate keys and cursors and, on request, the quality issues.
`draft.pipeline` turns a profile into a pipeline spec that runs as written.
"""

from __future__ import annotations

import time
from typing import Any

from connectors.profiling import keys, quality, sample
from connectors.profiling.columns import profile_column
from connectors.profiling.model import ColumnProfile, Count, Issue, Profile, TypeGuess
from connectors.runtime import ReadContext
from connectors.spec.sources import SourceSpec

__all__ = ["ColumnProfile", "Count", "Issue", "Profile", "TypeGuess", "profile"]


def profile(
    spec: SourceSpec,
    ctx: ReadContext,
    *,
    rows: int = sample.SAMPLE_ROWS,
    full: bool = False,
    with_quality: bool = False,
    findings: dict[str, Any] | None = None,
) -> Profile:
    """Profile a source from a bounded sample (every row when `full`).

    Args:
        spec: The source, as in a pipeline spec.
        ctx: Where relative paths and connections resolve.
        rows: Most rows to sample.
        full: Read the whole source: exact counts, and a full scan's cost.
        with_quality: Add the data-quality report.
        findings: What format detection found (encoding, delimiter...), to report as is.
    """
    started = time.perf_counter()
    taken = sample.take(spec, ctx, rows, full)
    spec, table = taken.spec or spec, taken.table
    found = dict(findings or {}) | taken.found
    if ctx.rejects.count:
        found["rejected_rows"] = ctx.rejects.count
    columns = [profile_column(name, table.column(name), taken.rows) for name in table.column_names]
    result = Profile(
        source=spec.model_dump(mode="json", exclude_defaults=True, by_alias=True),
        rows=taken.rows,
        sampled_rows=table.num_rows,
        method=taken.method,
        columns=columns,
        keys=keys.candidate_keys(table, columns),
        cursors=keys.candidate_cursors(table, columns),
        modified=keys.modification_times(columns),
        nested=found.pop("nested", None) or keys.nested_fields(table),
        format=found,
    )
    if with_quality:
        result.issues = quality.report(result, table)
    result.seconds = round(time.perf_counter() - started, 3)
    return result
