"""Helpers of the source reader tests: a real ReadContext and a spec from a dict."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import TypeAdapter

from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats
from connectors.sources import read
from connectors.spec.sources import SourceSpec

SPEC = TypeAdapter(SourceSpec)


@pytest.fixture
def make_ctx(tmp_path: Path) -> Callable[..., ReadContext]:
    """A factory of read contexts over `tmp_path`, each with fresh rejects."""

    def make(batch_rows: int = 1000, **storage: Any) -> ReadContext:
        run = RunInfo("run-1", "pipe", "stream", datetime.now(UTC))
        return ReadContext(tmp_path, batch_rows, Rejects(run, StreamStats()), storage)

    return make


def _batches(spec: dict[str, Any], ctx: ReadContext) -> list[pa.RecordBatch]:
    return list(read(SPEC.validate_python(spec), ctx))


def _rows(spec: dict[str, Any], ctx: ReadContext) -> list[dict[str, Any]]:
    return pa.Table.from_batches(_batches(spec, ctx)).to_pylist()


@pytest.fixture
def batches() -> Callable[[dict[str, Any], ReadContext], list[pa.RecordBatch]]:
    """`batches(spec_dict, ctx)`: every batch the source yields."""
    return _batches


@pytest.fixture
def rows() -> Callable[[dict[str, Any], ReadContext], list[dict[str, Any]]]:
    """`rows(spec_dict, ctx)`: every row the source yields, as dicts."""
    return _rows
