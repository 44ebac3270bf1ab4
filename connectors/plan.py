"""One stream's run, decided in one place for `dagsmith run` and the Airflow tasks alike.

A `StreamPlan` holds what a run of one stream is: its run identity (the idempotency key of
the load), its target, where relative paths start, and the stored watermark. From these it
builds every stage: the read context (storage options of a file source's connection, the
incremental bound pushed into the source), the transforms with the watermark's filter, and
the load job with its commit checks. `connectors.runner` runs the stages in one process;
`connectors.airflow_tasks` runs them as phases of one task with Parquet staged between
them, so a retry resumes at the phase that failed. Neither decides anything about reading,
transforming or loading on its own. Each stage is traced where it is timed
(`connectors.traces`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors import kinds, sources, traces, transforms
from connectors.connections import Target, get_connection, storage_options
from connectors.errors import RejectLimitExceeded, TargetUnavailable
from connectors.incremental import STATE_KEY, Watermark
from connectors.loaders import loader_for
from connectors.loaders.base import LoadJob, LoadResult
from connectors.loaders.failed import failure_record, record_failure
from connectors.loaders.preflight import preflight
from connectors.loaders.state import read_state
from connectors.runtime import (
    Position,
    ReadContext,
    Rejects,
    RunInfo,
    StreamStats,
    noting_columns,
    stage_time,
    timed,
)
from connectors.spec.models import Pipeline, Stream, Transform
from connectors.spec.sources import FileSource

log = logging.getLogger("dagsmith")

State = dict[str, str] | None
"""A stream's watermark as committed with its load (None: nothing to move)."""
Interval = tuple[datetime | None, datetime | None]
"""Airflow's data interval of the run (start, end); (None, None) for `dagsmith run`."""


def committed(*parts: Callable[[], State]) -> Callable[[], State]:
    """The state a load commits: a watermark's and a source position's, merged at commit."""

    def state() -> State:
        merged = {key: value for part in parts for key, value in (part() or {}).items()}
        return merged or None

    return state


@dataclass(frozen=True)
class StreamPlan:
    """Everything one run of one stream needs; build it with `plan_stream`."""

    spec: Pipeline
    stream: Stream
    run: RunInfo
    target: Target
    base_dir: Path
    project_dir: Path
    full_refresh: bool = False
    interval: Interval = (None, None)

    @cached_property
    def stored_state(self) -> dict[str, str]:
        """The stream's committed state (cursor, position) as the run found it, read once;
        empty for a stream that keeps none."""
        if self.stream.incremental is None and not kinds.kind_of(self.stream.source).positioned:
            return {}
        return read_state(
            self.target.address, self.stream.load.table, self.run.pipeline, self.run.stream
        )

    def stored_watermark(self) -> str | None:
        """The committed cursor this run starts from (None on a first or full-refresh run)."""
        if self.stream.incremental is None or self.full_refresh:
            return None
        stored = self.stored_state.get(STATE_KEY)
        log.info(
            "%s: incremental on %s from %s",
            self.stream.name,
            self.stream.incremental.cursor,
            stored,
        )
        return stored

    def stored_position(self) -> Position | None:
        """Where a positioned source (Kafka offsets) resumes: the position committed with the
        last load (its start on a first or full-refresh run); None for other kinds."""
        if not kinds.kind_of(self.stream.source).positioned:
            return None
        if self.full_refresh:
            return Position()
        return Position.stored(self.stored_state)

    def watermark(self, stored: str | None) -> Watermark | None:
        """The incremental bounds of this run, from the stored cursor; None if not incremental."""
        if self.stream.incremental is None:
            return None
        return Watermark(self.stream.incremental, stored)

    @cached_property
    def protector(self) -> transforms.Protector:
        """The stream's `protect` rules with their hash keys, read once from connections."""
        return transforms.protector(self.stream.transform, self.project_dir)

    def read_context(
        self, rejects: Rejects, watermark: Watermark | None, position: Position | None = None
    ) -> ReadContext:
        """The source's read context: credentials for remote files, the incremental bound and
        a positioned source's place. The reader's rejects are protected like the rules'."""
        rejects.protector = self.protector
        since = None
        if watermark is not None:
            since = watermark.pushdown(self._source_name(watermark.spec.cursor))
        return ReadContext(
            base_dir=self.base_dir,
            batch_rows=self.stream.batch_rows,
            rejects=rejects,
            storage_options=self._storage_options(),
            project_dir=self.project_dir,
            since=since,
            where=transforms.pushdown(self.stream.transform),
            position=position,
        )

    def extract(
        self,
        rejects: Rejects,
        stats: StreamStats,
        watermark: Watermark | None,
        position: Position | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The source's batches, read past the watermark where the source can filter and
        from a positioned source's place (which the reader moves as it reads); the time the
        reading takes is `stats.seconds["extract"]`."""
        context = self.read_context(rejects, watermark, position)
        read = timed(sources.read(self.stream.source, context), stats.seconds, "extract")
        return traces.stage("extract", read, self, stats)

    def transform(
        self,
        batches: Iterator[pa.RecordBatch],
        rejects: Rejects,
        stats: StreamStats,
        watermark: Watermark | None,
    ) -> Iterator[pa.RecordBatch]:
        """The watermark's filter (which also tracks the new cursor), then the stream's rules;
        the time they take, their input's left out, is `stats.seconds["transform"]`."""
        keys = transforms.upsert_keys(self.stream.load)
        rejects.protector = self.protector

        def rules(read: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            spec = self.stream.transform
            read = noting_columns(read, stats, "source")
            shaped = transforms.apply(read, spec, rejects, stats, keys, self.protector, watermark)
            # The columns in and out, for lineage (`connectors.lineage`).
            return noting_columns(shaped, stats, "target")

        shaped = stage_time("transform", stats.seconds, batches, rules)
        return traces.stage("transform", shaped, self, stats)

    def load_job(
        self,
        batches: Iterator[pa.RecordBatch],
        rejects: Rejects,
        stats: StreamStats,
        state: Callable[[], State],
    ) -> LoadJob:
        """The load: rows, rejects, run record and the watermark `state()` gives at commit."""
        job = LoadJob(
            run=self.run,
            load=self.stream.load,
            batches=batches,
            rejects=rejects,
            stats=stats,
            declared=dict(self.stream.transform.types),
            required=list(self.stream.transform.required),
            dedupe=self.stream.transform.dedupe,
            contract=self.stream.contract,
            stored_state=self.stored_state,
            interval=self.interval_key,
        )

        def before_commit() -> None:
            check_reject_limit(self.stream.transform, stats)
            job.state = state()

        job.before_commit = before_commit
        return job

    @property
    def interval_key(self) -> str | None:
        """`start/end` in UTC: what an append's rows are keyed by, so a rerun replaces them."""
        start, end = self.interval
        if start is None or end is None:
            return None
        return f"{start.astimezone(UTC).isoformat()}/{end.astimezone(UTC).isoformat()}"

    def preflight(self) -> None:
        """Fail before anything is read when the load is bound to fail (target, columns, rights,
        a missing hash key)."""
        with traces.step("preflight", self):
            _ = self.protector
            preflight(
                self.target.address, self.stream, keyed_by_interval=self.interval_key is not None
            )

    def load(self, job: LoadJob) -> LoadResult:
        """Load in one transaction into the target (a no-op for a committed run key); the time
        it takes, pulling its batches included, is `job.stats.seconds["load"]`, the rows it
        wrote `job.stats.rows_loaded`."""
        started = time.perf_counter()
        with traces.step("load", self, job.stats):
            try:
                result = loader_for(self.target.address).load(job)
            finally:
                job.stats.seconds["load"] = time.perf_counter() - started
            job.stats.rows_loaded = result.rows_loaded
            return result

    def record_failure(self, stats: StreamStats, error: BaseException) -> None:
        """Record this failed attempt in the target, after its load (if it began) rolled back
        (`connectors.loaders.failed`). A record that cannot be written is logged, never
        raised over the run's own error."""
        try:
            record = failure_record(self.run, self.stream.load, stats, self.stored_state, error)
            record_failure(self.target.address, record)
        except TargetUnavailable:
            # The run failed reaching the same target, most likely: its error says why.
            log.warning(
                "%s: the failed run was not recorded: the target is out of reach",
                self.stream.name,
            )
        except Exception as exc:
            log.warning("%s: the failed run was not recorded: %s", self.stream.name, exc)

    def _storage_options(self) -> dict[str, Any]:
        """Credentials for a file source on remote storage, from its connection."""
        source = self.stream.source
        if not isinstance(source, FileSource) or source.connection is None:
            return {}
        return storage_options(get_connection(source.connection, self.project_dir))

    def _source_name(self, column: str) -> str:
        """The source's own name of a target column (undoing a rename)."""
        renamed = {target: source for source, target in self.stream.transform.rename.items()}
        return renamed.get(column, column)


def plan_stream(
    spec: Pipeline,
    stream: str,
    *,
    run_id: str,
    target: Target,
    base_dir: Path,
    project_dir: Path,
    full_refresh: bool = False,
    interval: Interval = (None, None),
) -> StreamPlan:
    """Plan one run of one stream.

    This is the one place where a run's identity is decided: `run_id` is the load's
    idempotency key (the same id again loads nothing twice), `interval` the data interval
    it covers, and `target` the database it commits to.
    """
    return StreamPlan(
        spec=spec,
        stream=spec.stream(stream),
        run=RunInfo(run_id, spec.pipeline, stream, datetime.now(UTC)),
        target=target,
        base_dir=base_dir,
        project_dir=project_dir,
        full_refresh=full_refresh,
        interval=interval,
    )


def check_reject_limit(spec: Transform, stats: StreamStats) -> None:
    """Raise RejectLimitExceeded when the stream rejected more rows than `max_rejects`."""
    limit = spec.max_rejects
    if limit is None or stats.rows_rejected == 0:
        return
    over = (
        stats.rows_rejected > limit
        if isinstance(limit, int)
        else stats.rows_rejected > limit * stats.rows_read
    )
    if over:
        rules = ", ".join(f"{rule}: {n}" for rule, n in stats.by_rule.most_common())
        shown = limit if isinstance(limit, int) else f"{limit:.2%} of {stats.rows_read}"
        raise RejectLimitExceeded(
            f"{stats.rows_rejected} of {stats.rows_read} rows rejected ({rules}); "
            f"max_rejects is {shown}; nothing was loaded",
            hint="fix the source, relax the rules, or raise transform.max_rejects",
        )
