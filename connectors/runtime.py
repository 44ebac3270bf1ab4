"""What flows between the stages of one stream run: run identity, counters, rejects."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from connectors.masking import mask
from connectors.reasons import Reasons
from connectors.spec.filter import Filter
from connectors.types import ColumnType

log = logging.getLogger("dagsmith")

_REJECT_FIELDS: list[pa.Field[pa.DataType]] = [
    pa.field("run_id", pa.string(), nullable=False),
    pa.field("row_number", pa.int64()),
    pa.field("rule", pa.string(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
    pa.field("raw", pa.string(), nullable=False),
]
REJECTS_SCHEMA = pa.schema(_REJECT_FIELDS)
"""Columns of `<table>__rejects`; `raw` is the row as the source gave it, as JSON."""


@dataclass(frozen=True)
class RunInfo:
    """Who is running: the same `run_id` twice means "the same run again" (idempotent)."""

    run_id: str
    pipeline: str
    stream: str
    started_at: datetime


@dataclass
class StreamStats:
    """Counters of one stream run, filled in as batches pass."""

    rows_read: int = 0
    rows_rejected: int = 0
    rows_filtered: int = 0
    rows_loaded: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)
    """Each stage's own time: `extract`, `transform`, `load` (`stage_time`, `StreamPlan`)."""
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """(name, Arrow type) of the rows as read (`source`) and as loaded (`target`), for lineage."""
    reasons: Reasons = field(default_factory=Reasons)
    """The commonest reasons of the rejects, with sample rows (the run report's)."""


def noting_columns(
    batches: Iterator[pa.RecordBatch], stats: StreamStats, key: str
) -> Iterator[pa.RecordBatch]:
    """Pass the batches on, keeping the columns of the first in `stats.columns[key]`."""
    for batch in batches:
        if key not in stats.columns:
            stats.columns[key] = [(f.name, str(f.type)) for f in batch.schema]
        yield batch


def timed(
    batches: Iterator[pa.RecordBatch], seconds: dict[str, float], key: str
) -> Iterator[pa.RecordBatch]:
    """Pass the batches on, adding to `seconds[key]` the time spent producing them (the time
    of the stages upstream included)."""
    seconds.setdefault(key, 0.0)
    while True:
        started = time.perf_counter()
        batch = next(batches, None)
        seconds[key] += time.perf_counter() - started
        if batch is None:
            return
        yield batch


def stage_time(
    stage: str,
    seconds: dict[str, float],
    batches: Iterator[pa.RecordBatch],
    run: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]],
) -> Iterator[pa.RecordBatch]:
    """`run(batches)`, adding to `seconds[stage]` the stage's own time: the time to produce its
    batches less the time its input took (a source read, or a staged file in Airflow)."""
    spent: dict[str, float] = {}
    # Called now, not on the first batch: a stage that cannot start fails before the load.
    output = timed(run(timed(batches, spent, "input")), spent, "output")
    return _adding_up(output, spent, seconds, stage)


def _adding_up(
    batches: Iterator[pa.RecordBatch],
    spent: dict[str, float],
    seconds: dict[str, float],
    stage: str,
) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    finally:
        seconds[stage] = (
            seconds.get(stage, 0.0) + spent.get("output", 0.0) - spent.get("input", 0.0)
        )


class RowProtector(Protocol):
    """The stream's `transform.protect`, applied to rejected rows (`transforms.protect`)."""

    @property
    def hides(self) -> bool:
        """Whether the stream protects a column: a reader's message then quotes no row."""
        ...

    def rows(self, rows: list[dict[str, Any]], *, at_source: bool) -> list[dict[str, Any]]:
        """The rows with their protected values hashed, masked, nulled or removed."""
        ...


class Rejects:
    """Rows that failed a rule, kept to be written with the load, in its transaction."""

    def __init__(self, run: RunInfo, stats: StreamStats) -> None:
        self._run = run
        self._stats = stats
        self._tables: list[pa.Table] = []
        self.at_source: list[int] = []
        """Data-row numbers the source reader rejected, so later rules number rows alike."""
        self.protector: RowProtector | None = None
        """Set by the stream's plan: every raw row added is protected before it is kept."""

    def add(
        self,
        rule: str,
        reasons: list[str],
        rows: list[dict[str, Any]],
        row_numbers: list[int | None],
        *,
        at_source: bool = False,
        protected: bool = False,
    ) -> None:
        """Record rejected rows: one reason, raw row and 1-based source data-row number each.

        `at_source`: the reader rejected them before any rule saw them; they count as read.
        `protected`: the rows are the transform's output, already protected (a loader's).
        """
        if not rows:
            return
        count = len(rows)
        if self.protector is not None and not protected:
            rows = self.protector.rows(rows, at_source=at_source)
        if at_source:
            self.note_source_rows([n for n in row_numbers if n is not None])
        reasons = [mask(reason) for reason in reasons]
        raws = [mask(json.dumps(row, default=str, ensure_ascii=False)) for row in rows]
        self._tables.append(
            pa.table(
                {
                    "run_id": [self._run.run_id] * count,
                    "row_number": row_numbers,
                    "rule": [rule] * count,
                    "reason": reasons,
                    "raw": raws,
                },
                schema=REJECTS_SCHEMA,
            )
        )
        self._stats.rows_rejected += count
        self._stats.by_rule[rule] += count
        for reason, raw, number in zip(reasons, raws, row_numbers, strict=True):
            self._stats.reasons.add(rule, reason, raw, number)
        log.info(
            "%s: %d row(s) rejected by %s (first: %s)", self._run.stream, count, rule, reasons[0]
        )

    def note_source_rows(self, numbers: list[int]) -> None:
        """Rows the reader rejected (here or in an earlier task): read, and numbered."""
        self.at_source = sorted([*self.at_source, *numbers])
        self._stats.rows_read += len(numbers)

    def data_rows(self, ranks: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The source data-row numbers of the rows of these 1-based ranks among the rows
        that reached the transform (the rows the reader rejected counted in)."""
        if not self.at_source:
            return ranks
        shifted = np.asarray(self.at_source) - np.arange(len(self.at_source))
        rows: np.ndarray[Any, Any] = ranks + np.searchsorted(shifted, ranks, side="right")
        return rows

    def add_table(self, table: pa.Table) -> None:
        """Take rows rejected by an earlier task of this run (read back from staging)."""
        if not table.num_rows:
            return
        table = table.select(REJECTS_SCHEMA.names).cast(REJECTS_SCHEMA)
        self._tables.append(table)
        self._stats.rows_rejected += table.num_rows
        columns = (
            table.column(name).to_pylist() for name in ("rule", "reason", "raw", "row_number")
        )
        for rule, reason, raw, number in zip(*columns, strict=True):
            self._stats.by_rule[rule] += 1
            self._stats.reasons.add(rule, reason, raw, number)

    @property
    def count(self) -> int:
        """Rows rejected so far."""
        return self._stats.rows_rejected

    def table(self) -> pa.Table:
        """All rejected rows, in the order they were found."""
        if not self._tables:
            return REJECTS_SCHEMA.empty_table()
        return pa.concat_tables(self._tables)


@dataclass(frozen=True)
class Since:
    """An incremental run's exclusive lower bound, for sources that can filter at the source.

    The runner filters rows by the cursor anyway; a source that pushes the bound down
    (a SQL WHERE, a REST query parameter) only saves reading what would be dropped.
    """

    column: str
    """The cursor as the source names it."""
    value: str
    """The bound as text: ISO 8601 for times, digits for integers."""
    param: str | None = None
    """REST: the query parameter that carries the bound."""


POSITION_KEY = "position"
"""The key of a source's position in `_dagsmith_state` (the watermark's is `cursor`)."""


@dataclass
class Position:
    """Where a source that keeps its own place (a Kafka consumer's offsets) reads from, and
    where this run leaves it. Plain JSON, per source kind; it commits with the load, in the
    load's transaction (`state`), so a run that does not commit leaves it where it was."""

    start: dict[str, Any] = field(default_factory=dict)
    """Committed by the last load (empty: the source's own start)."""
    end: dict[str, Any] | None = None
    """Set by the reader as it reads; None: nothing read."""

    def state(self) -> dict[str, str] | None:
        """What the load commits: the new position, or None when nothing moved it."""
        if self.end is None or self.end == self.start:
            return None
        return {POSITION_KEY: json.dumps(self.end, sort_keys=True)}

    @classmethod
    def stored(cls, state: dict[str, str]) -> Position:
        """The position a stream's committed state holds."""
        return cls(json.loads(state[POSITION_KEY]) if POSITION_KEY in state else {})


@dataclass(frozen=True)
class Pushdown:
    """Filter tests a database source may run in its query, on columns named as the source
    names them; `declared` holds the spec's types of those columns (a test on a column cast
    to another type is left to the transform)."""

    filter: Filter
    declared: dict[str, ColumnType] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadContext:
    """What a source reader needs beyond its spec."""

    base_dir: Path
    batch_rows: int
    rejects: Rejects
    storage_options: dict[str, Any] = field(default_factory=dict)
    since: Since | None = None
    project_dir: Path = field(default_factory=Path.cwd)
    where: Pushdown | None = None
    """Tests a database source may apply in its query (`transforms.pushdown`)."""
    position: Position | None = None
    """A positioned kind's place (`SourceKind.positioned`): read from `start`, set `end`."""
