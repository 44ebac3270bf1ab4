"""PostgreSQL loader: binary COPY from Arrow, then one transaction that writes everything.

Flow, in one transaction: lock the target table, create what is missing (schema,
target, rejects, runs, state; see postgres_ddl), check the target's columns, lock the
stream, skip a run id already recorded, delete the rows an earlier load of the same data
interval appended, COPY (straight into the target for a plain append or replace, else
into a temporary staging table), `before_commit`, merge, rejects, run record, state. A
failure or a crash before the commit leaves the catalog and the target as they were.

An upsert dedupes the staged rows on its keys (the last row wins) unless staging proved
them unique, then merges them with `INSERT ... ON CONFLICT ... DO UPDATE ... WHERE ... IS
DISTINCT FROM`, or its MERGE equivalent on PostgreSQL 15+ (unchanged rows are not
rewritten; see `_merged`). Where every dedupe keeps the last row, a second connection
stages the rows in chunks while the transaction merges each chunk (postgres_stager): the
staging hides behind the merge.
"""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace

import pyarrow as pa
import sqlalchemy as sa

from connectors.dialects.postgres import POSTGRES
from connectors.errors import DagsmithError, LoadError, TargetUnavailable
from connectors.loaders import postgres_ddl
from connectors.loaders.base import RUNS_TABLE, STATE_TABLE, LoadJob, LoadResult
from connectors.loaders.postgres_ddl import Created
from connectors.loaders.postgres_driver import PgSession
from connectors.loaders.postgres_sql import (
    ANY_JOIN,
    INDEX_PROBES,
    STAGE,
    TARGET_COLUMNS,
    UNIQUE_KEYS,
    UPSERT_TARGET,
    WRITTEN,
    Plan,
    copy_type,
    deduped,
    insert_sql,
    merge_into_sql,
    qualify,
    quote,
    target_column,
    upsert_sql,
)
from connectors.loaders.postgres_stager import Stager
from connectors.loaders.postgres_waits import LockWatch
from connectors.loaders.prepare import (
    INTERVAL,
    Extract,
    Passes,
    SortedKey,
    TargetColumn,
    counted,
    dedupe_passes,
    keyed_by_interval,
    mismatches,
    nested_as_json,
    open_extract,
    reject_null_keys,
    rejects_table,
    run_record,
    settle,
    skip_empty_replace,
    split_table,
)
from connectors.runtime import REJECTS_SCHEMA, log

SOURCE = "_dagsmith_source"
"""The staged rows once deduplicated: ON CONFLICT refuses a key twice in one statement."""
UNIQUE_VIOLATION = "23505"


class PostgresLoader:
    """Loads into PostgreSQL (binary COPY encoded by pgpq, sent by psycopg2).

    Args:
        url: The target's SQLAlchemy URL (its password is never logged or raised).
    """

    def __init__(self, url: sa.URL) -> None:
        self._url = url

    def load(self, job: LoadJob) -> LoadResult:
        """Stage, then in one transaction write the rows, the rejects and the run record."""
        where = f"{job.load.table} at {self._url.render_as_string(hide_password=True)}"
        extract, session = _open(lambda: PgSession(self._url, where), job)
        stager = None
        watcher = _named(self._url, "dagsmith-lock-watch")
        watch = LockWatch(lambda: PgSession(watcher, where), session.pid, job.run.stream)
        try:
            with watch:
                extract, plan, created = _prepare(session, job, extract)
                passes = dedupe_passes(job)
                if _merges_in_chunks(job, passes) and _may_stage_apart(session, job, created):
                    named = _named(self._url, "dagsmith-stager")
                    stager = _stager(lambda: PgSession(named, where), job, plan, passes)
                result = _transaction(session, job, extract, plan, stager)
        finally:
            session.close()
            if stager is not None:  # after the transaction: it holds locks on the tables
                stager.close()
        job.stats.rows_loaded = result.rows_loaded
        return result


def _open(connect: Callable[[], PgSession], job: LoadJob) -> tuple[Extract, PgSession]:
    """The extract's first batch and the connection, each waiting on the source or the server
    (a remote server's TLS handshake and authentication take round trips): side by side."""
    with ThreadPoolExecutor(1, thread_name_prefix="dagsmith-connect") as pool:
        opening = pool.submit(contextvars.copy_context().run, connect)
        try:
            extract = open_extract(job, POSTGRES)
        except BaseException:
            opening.add_done_callback(_close_opened)
            raise
    return extract, opening.result()


def _close_opened(opened: Future[PgSession]) -> None:
    """Close a connection that opened after the load had already failed."""
    if opened.exception() is None:
        opened.result().close()


def _stager(
    connect: Callable[[], PgSession], job: LoadJob, plan: Plan, passes: Passes
) -> Stager | None:
    """A stager on a second connection, or None (stage on the one) when none is to be had."""
    try:
        return Stager(
            connect,
            plan,
            split_table(job.load.table)[0],
            f"{job.run.pipeline}\x1f{job.run.stream}",
            _watched_key(passes, plan),
        )
    except TargetUnavailable as exc:  # e.g. the role's or the server's connection limit
        log.warning("%s: staging on the load's own connection: %s", job.run.stream, exc)
        return None


def _named(url: sa.URL, application: str) -> sa.URL:
    """The URL with an `application_name`, unless it has one: shown in pg_stat_activity."""
    if "application_name" in url.query:
        return url
    return url.update_query_dict({"application_name": application})


def _prepare(session: PgSession, job: LoadJob, extract: Extract) -> tuple[Extract, Plan, Created]:
    """Lock the table, create what is missing (uncommitted), settle the stream's contract
    with the target's columns and check them; the extract to load."""
    schema, name = split_table(job.load.table)
    # Staging lives in local buffers: the 8MB default spills a million rows to disk.
    session.query("SET temp_buffers = '256MB'")
    postgres_ddl.lock_table(session, job.load.table)
    created = postgres_ddl.create_missing(session, job, extract)
    columns = _target_columns(session, schema, name)
    settled = settle(extract, columns, job, POSTGRES)
    if settled.added:
        postgres_ddl.add_columns(session, job.load.table, settled.added)
        columns = _target_columns(session, schema, name)
    extract = settled.extract
    mismatches(extract, columns, job.load.table, POSTGRES)
    by_name = {c.name: c for c in columns}
    plan = Plan(job.load.table, columns, {n: copy_type(by_name[n]) for n in extract.types})
    if job.load.mode == "upsert":
        _check_unique_key(session, job)
        ((merges, partitioned, counters),) = session.query(UPSERT_TARGET, [qualify(schema, name)])
        if partitioned and not counters:
            raise LoadError(
                f"{job.load.table} is partitioned: an upsert into it is counted by the server's "
                "row counters, which are off (track_counts)",
                hint="turn track_counts on (autovacuum needs it too), or append instead",
            )
        plan = replace(plan, merge_into=merges and counters, partitioned=partitioned)
    return extract, plan, created


def _target_columns(session: PgSession, schema: str | None, name: str) -> list[TargetColumn]:
    rows = session.query(TARGET_COLUMNS, [qualify(schema, name)])
    return [target_column(*row) for row in rows]


def _may_stage_apart(session: PgSession, job: LoadJob, created: Created) -> bool:
    """Whether a second connection can stage: it needs the schema committed (not made by
    this very transaction) and the right to create tables in it."""
    if created.schema:
        return False
    ((allowed,),) = session.query(postgres_ddl.CAN_STAGE, [split_table(job.load.table)[0]])
    return bool(allowed)


def _check_unique_key(session: PgSession, job: LoadJob) -> None:
    """Refuse an upsert into a table whose keys are not unique: it would update every copy."""
    indexes: dict[int, set[str]] = {}
    for index, column in session.query(UNIQUE_KEYS, [qualify(*split_table(job.load.table))]):
        indexes.setdefault(index, set()).add(column)
    if set(job.load.keys) not in indexes.values():
        raise LoadError(
            f"{job.load.table} has no primary key or unique index on exactly the upsert keys "
            f"({', '.join(job.load.keys)})",
            hint="add one (ALTER TABLE ... ADD PRIMARY KEY), or upsert on the keys it has",
        )


def _transaction(
    session: PgSession, job: LoadJob, extract: Extract, plan: Plan, stager: Stager | None
) -> LoadResult:
    """The load's one transaction; returns before committing anything when already done."""
    schema, name = split_table(job.load.table)
    run = job.run
    session.query("SET LOCAL work_mem = '256MB'")  # dedupe sorts in memory
    session.query(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [f"dagsmith\x1f{run.pipeline}\x1f{run.stream}"],
    )
    done = session.query(
        f"SELECT 1 FROM {qualify(schema, RUNS_TABLE)} "
        "WHERE run_id = $1 AND pipeline = $2 AND stream = $3",
        [run.run_id, run.pipeline, run.stream],
    )
    if done:
        log.info("%s: run %s is already loaded; skipping", run.stream, run.run_id)
        return LoadResult(rows_loaded=0, skipped=True)
    replaced = _replace_interval(session, job)
    counts = _write(session, job, extract, plan, stager)
    rejects = job.rejects.table()
    if rejects.num_rows:
        session.copy(schema, rejects_table(name, POSTGRES), REJECTS_SCHEMA, rejects.to_batches())
    _record(session, job, counts)
    session.commit()
    return LoadResult(
        rows_loaded=counts["loaded"],
        inserted=counts["inserted"],
        updated=counts["updated"],
        unchanged=counts["loaded"] - counts["inserted"] - counts["updated"],
        deduplicated=counts["staged"] - counts["loaded"],
        rejects_written=rejects.num_rows,
        replaced=replaced,
    )


def _replace_interval(session: PgSession, job: LoadJob) -> int:
    """Delete the rows an earlier load of this data interval wrote; returns how many."""
    if not keyed_by_interval(job):
        return 0
    target = qualify(*split_table(job.load.table))
    ((deleted,),) = session.query(
        f"WITH d AS (DELETE FROM {target} WHERE {quote(INTERVAL)} = $1 RETURNING 1) "
        "SELECT count(*) FROM d",
        [job.interval],
    )
    if deleted:
        log.info("%s: replacing %d rows of interval %s", job.run.stream, deleted, job.interval)
    return int(deleted)


def _write(
    session: PgSession, job: LoadJob, extract: Extract, plan: Plan, stager: Stager | None
) -> dict[str, int]:
    """COPY the rows and merge them; `before_commit` runs once the stream is consumed."""
    passes = dedupe_passes(job)
    batches = _conformed(extract.batches, job, plan)
    if extract.columnless and job.load.mode != "replace":
        job.before_commit()
        return {"staged": 0, "loaded": 0, "inserted": 0, "updated": 0}
    if stager is not None:
        return _upsert_chunks(session, job, plan, passes, stager, batches)
    if not passes and job.load.mode != "upsert" and plan.direct_ok:
        return _write_direct(session, job, extract, plan, batches)
    staged = [0]
    watch = SortedKey(_watched_key(passes, plan))
    numbered = counted(watch.watch(batches), staged, bool(passes))
    session.query(plan.stage_ddl(with_seq=bool(passes)))
    session.copy(None, STAGE, plan.wire_schema(bool(passes)), numbered)
    job.before_commit()
    merge = _upsert if job.load.mode == "upsert" else _insert
    needed = watch.needed(passes)
    counts = postgres_ddl.retrying(
        session, job.run.stream, lambda: merge(session, job, plan, quote(STAGE), needed, staged[0])
    )
    return {"staged": staged[0], **counts}


def _write_direct(
    session: PgSession,
    job: LoadJob,
    extract: Extract,
    plan: Plan,
    batches: Iterator[pa.RecordBatch],
) -> dict[str, int]:
    """Append or replace with a COPY straight into the target."""
    if skip_empty_replace(job, 0 if extract.empty else 1):
        job.before_commit()
        return {"staged": 0, "loaded": 0, "inserted": 0, "updated": 0}
    schema, name = split_table(job.load.table)
    if job.load.mode == "replace":
        session.query(f"DELETE FROM {qualify(schema, name)}")
    staged = [0]
    if not extract.columnless:
        session.copy(schema, name, plan.wire_schema(False), counted(batches, staged, False))
    job.before_commit()
    return {"staged": staged[0], "loaded": staged[0], "inserted": staged[0], "updated": 0}


def _merges_in_chunks(job: LoadJob, passes: Passes) -> bool:
    """True when merging the rows chunk by chunk, in order, ends as one merge of all of them
    would: each dedupe keeps the last row, on keys that include the upsert's."""
    keys = set(job.load.keys)
    return job.load.mode == "upsert" and all(k == "last" and keys <= set(p) for p, k in passes)


def _watched_key(passes: Passes, plan: Plan) -> str | None:
    """A one-column dedupe key worth proving unique while staging, if there is one."""
    return next((k[0] for k, _ in passes if len(k) == 1 and plan.exact(k[0])), None)


def _upsert_chunks(
    session: PgSession,
    job: LoadJob,
    plan: Plan,
    passes: Passes,
    stager: Stager,
    batches: Iterator[pa.RecordBatch],
) -> dict[str, int]:
    """Merge each chunk as soon as the stager commits it (see postgres_stager).

    Chunks merge in staging order, so the last row of a key wins across chunks too; a key
    repeated in a later chunk counts as updated (or unchanged), not as deduplicated.
    """
    counts = Counter(loaded=0, inserted=0, updated=0)
    stager.start(batches)
    for chunk in stager.chunks():
        needed = [] if chunk.unique else passes
        counts.update(
            postgres_ddl.retrying(
                session,
                job.run.stream,
                lambda: _upsert(session, job, plan, chunk.table, needed, chunk.rows),  # noqa: B023
            )
        )
    job.before_commit()
    return {"staged": stager.rows, **counts}


def _upsert(
    session: PgSession, job: LoadJob, plan: Plan, source: str, passes: Passes, staged: int
) -> dict[str, int]:
    """Merge `source` into the target (`_merged`).

    Keys proven unique while staging are merged as they are; otherwise the dedupe runs
    first, into a temporary table (neither statement takes a key twice).
    """
    target = qualify(*split_table(job.load.table))
    if not passes:
        inserted, updated = _merged(session, job, plan, target, source)
        return {"loaded": staged, "inserted": inserted, "updated": updated}
    unique = quote(SOURCE)
    loaded = session.execute(f"CREATE TEMP TABLE {unique} AS {deduped(plan, passes, source)}")
    inserted, updated = _merged(session, job, plan, target, unique)
    session.query(f"DROP TABLE {unique}")
    return {"loaded": loaded, "inserted": inserted, "updated": updated}


def _merged(
    session: PgSession, job: LoadJob, plan: Plan, target: str, source: str
) -> tuple[int, int]:
    """Insert the new keys and update the rows that differ; returns (inserted, updated).

    Where the server has it, with MERGE, which leaves unchanged rows unlocked and so does
    about a fifth less work (docs/performance.md). MERGE cannot do one thing ON CONFLICT
    does: take a key that another writer inserts while it runs (it raises a unique
    violation). The chunk then merges again with `INSERT ... ON CONFLICT ... DO UPDATE ...
    WHERE ... IS DISTINCT FROM`, the statement used everywhere else, so the rows end the
    same either way.
    """
    keys = job.load.keys
    if plan.merge_into:
        session.query("SAVEPOINT dagsmith_merge_into")
        try:
            counts = _counted(
                session, target, lambda: _merge_into(session, plan, target, source, keys)
            )
        except DagsmithError as exc:
            if exc.code != UNIQUE_VIOLATION:
                raise
            session.query("ROLLBACK TO SAVEPOINT dagsmith_merge_into")
            log.info(
                "%s: MERGE met a key already there (another writer's, or another unique "
                "index's): merging again with ON CONFLICT",
                job.run.stream,
            )
        else:
            session.query("RELEASE SAVEPOINT dagsmith_merge_into")
            return counts
    if plan.partitioned:
        sql = upsert_sql(plan, target, source, keys, counted=False)
        return _counted(session, target, lambda: session.execute(sql))
    ((inserted, updated),) = session.query(upsert_sql(plan, target, source, keys, counted=True))
    return inserted, updated


def _merge_into(session: PgSession, plan: Plan, target: str, source: str, keys: list[str]) -> None:
    session.query(INDEX_PROBES)
    session.execute(merge_into_sql(plan, target, source, keys))
    session.query(ANY_JOIN)


def _counted(session: PgSession, target: str, statement: Callable[[], object]) -> tuple[int, int]:
    """Run `statement`; the rows it inserted and updated, by the server's row counters."""
    ((inserted, updated),) = session.query(WRITTEN, [target])
    statement()
    ((now_inserted, now_updated),) = session.query(WRITTEN, [target])
    return now_inserted - inserted, now_updated - updated


def _insert(
    session: PgSession, job: LoadJob, plan: Plan, source: str, passes: Passes, staged: int
) -> dict[str, int]:
    """Append or replace with the staged rows, deduplicated if asked."""
    if skip_empty_replace(job, staged):
        return {"loaded": 0, "inserted": 0, "updated": 0}
    target = qualify(*split_table(job.load.table))
    if job.load.mode == "replace":
        session.query(f"DELETE FROM {target}")
    inserted = session.execute(insert_sql(plan, target, f"({deduped(plan, passes, source)})"))
    return {"loaded": inserted, "inserted": inserted, "updated": 0}


def _record(session: PgSession, job: LoadJob, counts: dict[str, int]) -> None:
    """Write the run record and the state, in the load's transaction."""
    schema, _ = split_table(job.load.table)
    record = run_record(job, counts)
    columns = ", ".join(quote(c) for c in record)
    params = ", ".join(f"${i}" for i in range(1, len(record) + 1))
    session.query(
        f"INSERT INTO {qualify(schema, RUNS_TABLE)} ({columns}) VALUES ({params})",
        list(record.values()),
    )
    for key, value in (job.state or {}).items():
        session.query(
            f"INSERT INTO {qualify(schema, STATE_TABLE)} AS s "
            "(pipeline, stream, key, value, updated_at) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (pipeline, stream, key) "
            "DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
            [job.run.pipeline, job.run.stream, key, value, record["finished_at"]],
        )


def _conformed(
    batches: Iterator[pa.RecordBatch], job: LoadJob, plan: Plan
) -> Iterator[pa.RecordBatch]:
    if job.load.mode == "upsert":
        batches = reject_null_keys(batches, job)
    return (plan.conform(nested_as_json(b)) for b in batches)
