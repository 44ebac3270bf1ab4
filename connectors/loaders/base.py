"""The contract between the runtime and a loader."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from connectors.runtime import Rejects, RunInfo, StreamStats
from connectors.spec.models import Contract, Dedupe, Load
from connectors.types import ColumnType

if TYPE_CHECKING:
    from connectors.loaders.prepare import TargetColumn

RUNS_TABLE = "_dagsmith_runs"
FAILED_RUNS_TABLE = "_dagsmith_failed_runs"
STATE_TABLE = "_dagsmith_state"
RUN_KEY = ("run_id", "pipeline", "stream")
"""What identifies a stream run in the run records."""


@dataclass
class LoadJob:
    """One stream's load.

    `batches` is consumed once; its first batch carries the schema (it may be empty).
    `declared` holds the spec's types, which win over the Arrow types for DDL (json,
    timestamptz...); `required` names the columns the spec says are never null, which a
    table the loader creates declares NOT NULL. `before_commit` runs after the last batch
    is staged and before the transaction commits; raising there (too many rejects) rolls
    everything back.
    `state` is the watermark to store with the load, in the same transaction;
    `stored_state` the one committed before this run (both go in its run record).
    `interval` is the data interval the run covers (Airflow's, as `start/end`), or None:
    an append stream's rows carry it, and a later load of the interval replaces them.
    `contract` says what to do when an existing table's columns differ from the extract's;
    `drift` is what it settled (`prepare.settle` fills it: columns added, ignored, missing,
    retyped), which the run record keeps.
    """

    run: RunInfo
    load: Load
    batches: Iterator[pa.RecordBatch]
    rejects: Rejects
    stats: StreamStats
    declared: dict[str, ColumnType] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    dedupe: Dedupe | None = None
    contract: Contract = field(default_factory=Contract)
    before_commit: Callable[[], None] = lambda: None
    state: dict[str, str] | None = None
    stored_state: dict[str, str] = field(default_factory=dict)
    interval: str | None = None
    drift: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    """What a load did. `skipped` is true when this run id was already committed;
    `replaced` counts the rows an earlier load of the same data interval had written."""

    rows_loaded: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deduplicated: int = 0
    rejects_written: int = 0
    skipped: bool = False
    replaced: int = 0


class Loader(Protocol):
    """A target database's loader."""

    def load(self, job: LoadJob) -> LoadResult:
        """Stage, then in one transaction write the rows, the rejects and the run record."""
        ...


class NativeTarget(Loader, Protocol):
    """A target reached through its driver alone, without SQLAlchemy (`Dialect.native`):
    what a run asks of it besides the load."""

    def columns(self, table: str) -> list[TargetColumn] | None:
        """An existing table's columns (None: no such table), for the pre-flight."""
        ...

    def read_state(self, table: str, pipeline: str, stream: str) -> dict[str, str]:
        """A stream's committed state (`connectors.loaders.state`)."""
        ...

    def record_failure(self, row: dict[str, Any]) -> None:
        """Insert a failed attempt's record (`connectors.loaders.failed`)."""
        ...
