"""Run history: what a target's run records say, for `dagsmith runs`.

Each stream run leaves its record beside its table, in the table's schema: a committed load
in `_dagsmith_runs`, a failed attempt in `_dagsmith_failed_runs` (`connectors.loaders.failed`),
the rows it rejected in `<table>__rejects`. A pipeline's records are read from the schemas
of its streams, in a short session of their own; a file target that does not exist holds no
runs, and is not created.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from connectors.connections import Target, resolve_target
from connectors.dialects import Dialect, dialect_for
from connectors.errors import TerminalError
from connectors.loaders import tables
from connectors.loaders.failed import bookkeeping_schema, stored_time
from connectors.loaders.prepare import rejects_table, split_table
from connectors.loaders.sql import translate
from connectors.spec.models import Pipeline, Stream

CONNECT_TIMEOUT = 15
"""Seconds to wait for a database server before calling it unreachable."""
TOP_RULES = 10
"""The most reject rules `run_details` tells apart."""
SHOWN_CHARS = 300
"""The most characters of a rejected row or reason shown; longer ones are cut."""
Status = Literal["ok", "failed"]
_KINDS: tuple[tuple[Status, Callable[[sa.MetaData, str | None], sa.Table]], ...] = (
    ("ok", tables.runs_table),
    ("failed", tables.failed_runs_table),
)
"""Each kind of run record and its table."""
_AGO = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class RunNotFound(TerminalError):
    """A target holds no run of that id for the pipelines asked."""


@dataclass(frozen=True)
class RunRecord:
    """One stream run: a committed load (`ok`) or a failed attempt (`failed`)."""

    run_id: str
    pipeline: str
    stream: str
    table: str
    mode: str
    status: Status
    started_at: datetime
    finished_at: datetime
    rows_read: int
    rows_filtered: int
    rows_rejected: int
    rows_loaded: int
    inserted: int
    updated: int
    watermark_before: str | None
    watermark_after: str | None
    error: str | None
    target: str
    """The target's URL, password masked."""
    schema_drift: dict[str, list[str]] | None = None
    """What the stream's contract settled: columns `added`, `ignored`, `missing`, `retyped`."""

    @property
    def seconds(self) -> float:
        """How long the run took, from the stream's start to its commit (or failure)."""
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def counts(self) -> str:
        """The row counts in words: `read 1,000, filtered 0, rejected 2, loaded 998`."""
        return (
            f"read {self.rows_read:,}, filtered {self.rows_filtered:,}, "
            f"rejected {self.rows_rejected:,}, loaded {self.rows_loaded:,}"
        )

    @property
    def drift(self) -> str:
        """The schema drift in words (`added a, b; ignored c`); empty without any."""
        found = (self.schema_drift or {}).items()
        return "; ".join(f"{kind} {', '.join(names)}" for kind, names in found)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`: times in ISO 8601, UTC."""
        data = asdict(self)
        data.update(
            started_at=self.started_at.isoformat(),
            finished_at=self.finished_at.isoformat(),
            seconds=round(self.seconds, 3),
        )
        return data


@dataclass(frozen=True)
class RejectRule:
    """How many rows one rule rejected in a run, and one of its reasons."""

    rule: str
    rows: int
    example: str


@dataclass(frozen=True)
class RejectSample:
    """A rejected row as the rejects table holds it (protected, masked), cut to be shown."""

    row_number: int | None
    rule: str
    reason: str
    raw: str


@dataclass(frozen=True)
class RunDetails:
    """A stream run whole: its record, its rejects by rule, and a few rejected rows."""

    record: RunRecord
    rules: list[RejectRule] = field(default_factory=list)
    samples: list[RejectSample] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`."""
        return {
            **self.record.to_dict(),
            "rejected_by_rule": [asdict(rule) for rule in self.rules],
            "rejected_samples": [asdict(sample) for sample in self.samples],
        }


@dataclass(frozen=True)
class StreamHistory:
    """A stream's recent runs: what its health is judged from."""

    stream: str
    ok: list[RunRecord]
    """Its newest committed loads, newest first."""
    failed: list[RunRecord]
    """Its attempts that failed since the newest of `ok` (all of them without one), newest
    first."""
    rejects: dict[str, dict[str, int]]
    """Rows rejected by each rule, by run id of `ok`."""


@dataclass(frozen=True)
class Query:
    """Which runs to list: of these pipelines (and stream), since when, newest first."""

    pipelines: Sequence[Pipeline]
    stream: str | None = None
    since: datetime | None = None
    limit: int | None = 20
    run_id: str | None = None
    status: Status | None = None
    """Only committed loads (`ok`) or only failed attempts; None: both."""


def since(text: str, now: datetime | None = None) -> datetime:
    """`7d`, `24h`, `30m`, `2w` ago, or an ISO 8601 date or time (UTC unless it says).

    Raises:
        ValueError: The text is neither.
    """
    if found := _AGO.fullmatch(text.strip()):
        ago = timedelta(**{_UNITS[found[2]]: int(found[1])})
        return (now or datetime.now(UTC)) - ago
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (7d, 24h, 30m, 2w) nor an ISO date (2026-12-01)"
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def target_of(conn_id: str | None, project_dir: Path) -> Target:
    """A spec's target, as `dagsmith run` resolves it, without creating the embedded file."""
    return resolve_target(conn_id, project_dir, create=False)


def runs(target: Target, query: Query) -> list[RunRecord]:
    """The runs of `query.pipelines` that `target` recorded, newest first.

    Raises:
        DagsmithError: The target cannot be read (TargetUnavailable when it may pass).
    """
    found: list[RunRecord] = []
    with _session(target) as session:
        if session is not None:
            for schema in _schemas(query.pipelines, session.database):
                found += session.records(schema, query)
    found.sort(key=lambda r: (r.started_at, r.finished_at), reverse=True)
    return found[: query.limit]


def run_details(target: Target, query: Query, samples: int) -> list[RunDetails]:
    """Each stream run of `query.run_id`, with its rejects by rule and up to `samples` rows.

    Raises:
        RunNotFound: The target recorded no run of that id for these pipelines.
    """
    assert query.run_id is not None
    details: list[RunDetails] = []
    with _session(target) as session:
        if session is not None:
            for schema in _schemas(query.pipelines, session.database):
                for record in session.records(schema, query):
                    details.append(session.details(schema, record, samples))
    if not details:
        names = ", ".join(spec.pipeline for spec in query.pipelines)
        raise RunNotFound(
            f"no run {query.run_id!r} of {names} in {target.label}",
            hint="`dagsmith runs` lists the runs and their ids",
        )
    return sorted(details, key=lambda d: (d.record.stream, d.record.started_at))


def recent(
    target: Target, spec: Pipeline, streams: Sequence[Stream], limit: int
) -> list[StreamHistory]:
    """Each stream's `limit` newest committed loads, the attempts that failed since, and how
    many rows each reject rule took in those loads (`connectors.health` judges them).

    Raises:
        DagsmithError: The target cannot be read (TargetUnavailable when it may pass).
    """
    with _session(target) as session:
        if session is None:
            return [StreamHistory(stream.name, [], [], {}) for stream in streams]
        return [session.history(spec, stream, limit) for stream in streams]


def _schemas(specs: Sequence[Pipeline], dialect: Dialect) -> list[str | None]:
    """The schemas holding the pipelines' run records (None: the default one), each once."""
    found = {bookkeeping_schema(s.load.table, dialect) for spec in specs for s in spec.streams}
    return sorted(found, key=lambda schema: schema or "")


@contextmanager
def _session(target: Target) -> Iterator[_Session | None]:
    """A read-only connection to the target; None for a file that does not exist."""
    url = target.url
    dialect = dialect_for(url)
    if dialect.file_database and not Path(url.database or "").is_file():
        yield None
        return
    args = dict(dialect.read_only_args)
    timeout = dialect.connect_timeout_args.get(url.get_driver_name())
    if timeout and timeout not in url.query:
        args[timeout] = CONNECT_TIMEOUT
    engine = sa.create_engine(url, poolclass=sa.NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            yield _Session(conn, dialect, target.label)
    except sa.exc.DBAPIError as exc:
        raise translate(exc, f"reading the run records at {target.label}") from exc
    finally:
        engine.dispose()


class _Session:
    """Queries of the run records, over one connection."""

    def __init__(self, conn: sa.Connection, dialect: Dialect, label: str) -> None:
        self.conn, self.database, self.label = conn, dialect, label

    def records(self, schema: str | None, query: Query) -> list[RunRecord]:
        """Both kinds of records in one schema, each kind newest first."""
        found: list[RunRecord] = []
        for status, make in _KINDS:
            table = make(self._metadata(), schema)
            if query.status not in (None, status) or not self._has(table):
                continue
            rows = self.conn.execute(self._select(table, query)).mappings().all()
            found += [self._record(row, status) for row in rows]
        return found

    def details(self, schema: str | None, record: RunRecord, samples: int) -> RunDetails:
        """The record with its rejects (a failed attempt wrote none: its load rolled back)."""
        table = self._rejects(schema, record.table)
        if record.status == "failed" or not self._has(table):
            return RunDetails(record)
        mine = table.c.run_id == record.run_id
        count = sa.func.count()
        rules = self.conn.execute(
            sa.select(table.c.rule, count, sa.func.min(_cut(table.c.reason)))
            .where(mine)
            .group_by(table.c.rule)
            .order_by(count.desc(), table.c.rule)
            .limit(TOP_RULES)
        ).all()  # fetched before the next query: DuckDB's cursor would move on to its rows
        rows = self.conn.execute(
            sa.select(table.c.row_number, table.c.rule, _cut(table.c.reason), _cut(table.c.raw))
            .where(mine)
            .order_by(table.c.row_number)
            .limit(samples)
        ).all()
        return RunDetails(
            record,
            [RejectRule(rule, int(n), _shown(example)) for rule, n, example in rules],
            [RejectSample(n, rule, _shown(why), _shown(raw)) for n, rule, why, raw in rows],
        )

    def history(self, spec: Pipeline, stream: Stream, limit: int) -> StreamHistory:
        """A stream's newest committed loads, its failed attempts since, and their rejects."""
        schema = bookkeeping_schema(stream.load.table, self.database)
        ok = self.records(schema, Query([spec], stream.name, limit=limit, status="ok"))
        since = ok[0].started_at if ok else None
        failed = self.records(schema, Query([spec], stream.name, since, None, status="failed"))
        rejecting = [record.run_id for record in ok if record.rows_rejected]
        table = self._rejects(schema, stream.load.table)
        counts: dict[str, dict[str, int]] = {}
        if rejecting and self._has(table):
            rows = self.conn.execute(
                sa.select(table.c.run_id, table.c.rule, sa.func.count())
                .where(table.c.run_id.in_(rejecting))
                .group_by(table.c.run_id, table.c.rule)
            ).all()
            for run_id, rule, n in rows:
                counts.setdefault(run_id, {})[rule] = int(n)
        return StreamHistory(stream.name, ok, failed, counts)

    def _rejects(self, schema: str | None, table: str) -> sa.Table:
        name = rejects_table(split_table(table)[1], self.database)
        return tables.rejects_table(self._metadata(), schema, name)

    def _metadata(self) -> sa.MetaData:
        """A MetaData of its own for each table, which a session may describe more than once."""
        return tables.new_metadata(self.database.name)

    def _has(self, table: sa.Table) -> bool:
        return sa.inspect(self.conn).has_table(table.name, schema=table.schema)

    def _select(self, table: sa.Table, query: Query) -> sa.Select[Any]:
        """The query's records, with the columns this table has (an older one lacks some)."""
        probe = sa.select(sa.text("*")).select_from(table).limit(0)
        existing = set(self.conn.execute(probe).keys())
        select = sa.select(*(c for c in table.columns if c.name in existing)).where(
            table.c.pipeline.in_([spec.pipeline for spec in query.pipelines])
        )
        if query.stream is not None:
            select = select.where(table.c.stream == query.stream)
        if query.since is not None:
            select = select.where(table.c.started_at >= stored_time(query.since, self.database))
        if query.run_id is not None:
            select = select.where(table.c.run_id == query.run_id)
        return select.order_by(table.c.started_at.desc()).limit(query.limit)

    def _record(self, row: sa.RowMapping, status: Status) -> RunRecord:
        watermark = row.get("watermark_before")
        return RunRecord(
            run_id=row["run_id"],
            pipeline=row["pipeline"],
            stream=row["stream"],
            table=row["target_table"],
            mode=row["mode"],
            status=status,
            started_at=_utc(row["started_at"]),
            finished_at=_utc(row["finished_at"]),
            rows_read=row["rows_read"],
            rows_filtered=row.get("rows_filtered") or 0,
            rows_rejected=row["rows_rejected"],
            rows_loaded=row.get("rows_loaded", 0),
            inserted=row.get("inserted", 0),
            updated=row.get("updated", 0),
            watermark_before=watermark,
            # A failure leaves the watermark where it was.
            watermark_after=row.get("watermark_after", watermark),
            error=row.get("error"),
            target=self.label,
            schema_drift=json.loads(drift) if (drift := row.get("schema_drift")) else None,
        )


def _cut(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The first characters of a text column, one more than shown: long rows stay at home."""
    return sa.func.substr(column, 1, SHOWN_CHARS + 1)


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _utc(moment: datetime) -> datetime:
    """A stored time in UTC (MySQL/MariaDB and SQLite store naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
