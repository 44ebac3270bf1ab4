"""Helpers for loader tests: build a LoadJob from plain columns, read what landed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from connectors.loaders.base import LoadJob
from connectors.runtime import Rejects, RunInfo, StreamStats
from connectors.spec.models import Dedupe, Load
from connectors.types import ColumnType


def make_job(
    table: str,
    data: dict[str, list[Any]] | pa.Table,
    *,
    mode: str = "append",
    keys: list[str] | None = None,
    run_id: str = "run-1",
    batch_rows: int = 2,
    declared: dict[str, str] | None = None,
    required: list[str] | None = None,
    dedupe: Dedupe | None = None,
    allow_empty_replace: bool = False,
    before_commit: Callable[[], None] = lambda: None,
    state: dict[str, str] | None = None,
    interval: str | None = None,
) -> LoadJob:
    """A job whose stream is `data` cut into small batches (so batching is exercised)."""
    arrow = data if isinstance(data, pa.Table) else pa.table(data)
    run = RunInfo(run_id, "pipe", "orders", datetime(2024, 5, 1, 6, tzinfo=UTC))
    stats = StreamStats(rows_read=arrow.num_rows)
    batches = arrow.to_batches(max_chunksize=batch_rows) or [
        pa.RecordBatch.from_pylist([], schema=arrow.schema)
    ]
    load = Load(table=table, mode=mode, keys=keys or [], allow_empty_replace=allow_empty_replace)
    return LoadJob(
        run=run,
        load=load,
        batches=iter(batches),
        rejects=Rejects(run, stats),
        stats=stats,
        declared={k: ColumnType.parse(v) for k, v in (declared or {}).items()},
        required=required or [],
        dedupe=dedupe,
        before_commit=before_commit,
        interval=interval,
        state=state,
    )


@pytest.fixture
def job_factory() -> Callable[..., LoadJob]:
    """`make_job`, as a fixture."""
    return make_job
