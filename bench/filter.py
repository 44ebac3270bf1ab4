"""Time the transform of 1M rows with and without a two-test `filter` (best of 3).

Run: .venv/bin/python bench/filter.py  (in process, no database)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.runtime import Rejects, RunInfo, StreamStats
from connectors.spec.models import Transform
from connectors.transforms import apply

ROWS = 1_000_000
RULE = {
    "all": [
        {"column": "amount", "op": ">", "value": 50},
        {"column": "status", "op": "in", "value": ["paid", "shipped"]},
    ]
}


def _batches() -> list[pa.RecordBatch]:
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "id": np.arange(ROWS),
            "amount": rng.uniform(0, 100, ROWS).round(2),
            "status": rng.choice(["paid", "shipped", "void", "new"], ROWS),
        }
    )
    return table.to_batches(max_chunksize=131_072)


def _best(spec: dict[str, Any], batches: list[pa.RecordBatch]) -> tuple[float, int, int]:
    best, kept, stats = float("inf"), 0, StreamStats()
    for _ in range(3):
        stats = StreamStats()
        rejects = Rejects(RunInfo("bench", "p", "s", datetime.now(UTC)), stats)
        started = time.perf_counter()
        out = apply(iter(batches), Transform.model_validate(spec), rejects, stats)
        kept = sum(batch.num_rows for batch in out)
        best = min(best, time.perf_counter() - started)
    return best, kept, stats.rows_filtered


if __name__ == "__main__":
    batches = _batches()
    for label, spec in (("no filter", {}), ("filter", {"filter": RULE})):
        seconds, kept, filtered = _best(spec, batches)
        print(f"{label:>9}: {seconds:.3f} s, {kept:,} rows kept, {filtered:,} filtered")
