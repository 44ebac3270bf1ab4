"""PostgreSQL loader: binary COPY from Arrow, then one transaction that writes everything.

Flow: create what is missing (schema, target, rejects, runs, state) and check the
target's columns, committed on their own; then one transaction: lock the stream, skip a
run id already recorded, COPY (straight into the target for a plain append or replace,
else into a temporary staging table), `before_commit`, merge, rejects, run record, state.
A crash before the commit leaves the target as it was; the temporary table dies with
the session.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Literal

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.schema import CreateSchema, CreateTable, DDLElement

from connectors.loaders import tables
from connectors.loaders.base import RUNS_TABLE, STATE_TABLE, LoadJob, LoadResult
from connectors.loaders.postgres_driver import AdbcSession, PgSession, Psycopg2Session
from connectors.loaders.postgres_sql import (
    DIALECT,
    STAGE,
    TARGET_COLUMNS,
    Plan,
    copy_type,
    deduped,
    insert_sql,
    qualify,
    quote,
    target_column,
    upsert_sql,
)
from connectors.loaders.prepare import (
    Extract,
    dedupe_passes,
    mismatches,
    nested_as_json,
    open_extract,
    reject_null_keys,
    rejects_table,
    run_record,
    skip_empty_replace,
    split_table,
)
from connectors.runtime import REJECTS_SCHEMA, log

Driver = Literal["adbc", "psycopg2"]


class PostgresLoader:
    """Loads into PostgreSQL through ADBC (psycopg2 when ADBC is not installed).

    Args:
        url: The target's SQLAlchemy URL (its password is never logged or raised).
        driver: Force a driver; by default ADBC when it can be imported.
    """

    def __init__(self, url: sa.URL, driver: Driver | None = None) -> None:
        self._url = url
        has_adbc = importlib.util.find_spec("adbc_driver_postgresql") is not None
        self.driver: Driver = driver or ("adbc" if has_adbc else "psycopg2")

    def load(self, job: LoadJob) -> LoadResult:
        """Stage, then in one transaction write the rows, the rejects and the run record."""
        extract = open_extract(job)
        where = f"{job.load.table} at {self._url.render_as_string(hide_password=True)}"
        kind = AdbcSession if self.driver == "adbc" else Psycopg2Session
        session: PgSession = kind(self._url, where)
        try:
            plan = _prepare(session, job, extract)
            result = _transaction(session, job, extract, plan)
        finally:
            session.close()
        job.stats.rows_loaded = result.rows_loaded
        return result


def _prepare(session: PgSession, job: LoadJob, extract: Extract) -> Plan:
    """Create what is missing, commit, and check the target against the extract."""
    schema, name = split_table(job.load.table)
    # Staging lives in local buffers: the 8MB default spills a million rows to disk.
    session.query("SET temp_buffers = '256MB'")
    metadata = tables.new_metadata("postgresql")
    statements: list[DDLElement] = [CreateSchema(schema, if_not_exists=True)] if schema else []
    statements += [
        CreateTable(table, if_not_exists=True)
        for table in (
            tables.target_table(metadata, schema, name, extract, job.load.keys),
            tables.rejects_table(metadata, schema, rejects_table(name)),
            tables.runs_table(metadata, schema),
            tables.state_table(metadata, schema),
        )
    ]
    for statement in statements:
        session.query(str(statement.compile(dialect=DIALECT)))
    session.commit()
    rows = session.query(TARGET_COLUMNS, [qualify(schema, name)])
    columns = [target_column(*row) for row in rows]
    mismatches(extract, columns, job.load.table)
    by_name = {c.name: c for c in columns}
    return Plan(job.load.table, columns, {n: copy_type(by_name[n]) for n in extract.types})


def _transaction(session: PgSession, job: LoadJob, extract: Extract, plan: Plan) -> LoadResult:
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
    counts = _write(session, job, extract, plan)
    rejects = job.rejects.table()
    if rejects.num_rows:
        session.copy(schema, rejects_table(name), REJECTS_SCHEMA, rejects.to_batches())
    _record(session, job, counts)
    session.commit()
    return LoadResult(
        rows_loaded=counts["loaded"],
        inserted=counts["inserted"],
        updated=counts["updated"],
        unchanged=counts["loaded"] - counts["inserted"] - counts["updated"],
        deduplicated=counts["staged"] - counts["loaded"],
        rejects_written=rejects.num_rows,
    )


def _write(session: PgSession, job: LoadJob, extract: Extract, plan: Plan) -> dict[str, int]:
    """COPY the rows and merge them; `before_commit` runs once the stream is consumed."""
    schema, name = split_table(job.load.table)
    target = qualify(schema, name)
    dedupes = dedupe_passes(job)
    staged = [0]
    wire = pa.schema([(n, t or pa.string()) for n, t in plan.wire.items()])
    batches = _counted(_conformed(extract.batches, job, plan), staged)
    if not dedupes and job.load.mode != "upsert" and plan.direct_ok:
        if skip_empty_replace(job, 0 if extract.empty else 1):
            job.before_commit()
            return {"staged": 0, "loaded": 0, "inserted": 0, "updated": 0}
        if job.load.mode == "replace":
            session.query(f"DELETE FROM {target}")
        session.copy(schema, name, wire, batches)
        job.before_commit()
        return {"staged": staged[0], "loaded": staged[0], "inserted": staged[0], "updated": 0}
    session.query(plan.stage_ddl(with_seq=bool(dedupes)))
    session.copy(None, STAGE, wire, batches, temporary=True)
    job.before_commit()
    return {"staged": staged[0], **_merge(session, job, plan, target, deduped(dedupes), staged[0])}


def _merge(
    session: PgSession, job: LoadJob, plan: Plan, target: str, source: str, staged: int
) -> dict[str, int]:
    """Move the staged rows into the target: append, replace or upsert."""
    if job.load.mode == "upsert":
        total, inserted, updated = session.query(upsert_sql(plan, target, source, job.load.keys))[0]
        return {"loaded": total, "inserted": inserted, "updated": updated}
    if skip_empty_replace(job, staged):
        return {"loaded": 0, "inserted": 0, "updated": 0}
    if job.load.mode == "replace":
        session.query(f"DELETE FROM {target}")
    _, inserted, _ = session.query(insert_sql(plan, target, source))[0]
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


def _counted(batches: Iterator[pa.RecordBatch], total: list[int]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        total[0] += batch.num_rows
        yield batch
