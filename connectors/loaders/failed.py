"""Failed runs: each failed attempt of a stream run, recorded after its load rolled back.

A load writes its run record in its own transaction, so a run that fails leaves none; and
`_dagsmith_runs` keeps one row per committed load, whose key makes a rerun of the same run
a no-op, so a failure cannot go there. It goes to `_dagsmith_failed_runs` beside it, written
after the fact in a short transaction of its own: INSERT only (a loading role needs no
right to update or delete), the table (and its schema) created when missing. The error is
masked and bounded. `dagsmith runs` reads both tables (`connectors.history`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.dialects import Dialect, dialect_for
from connectors.errors import TransientError
from connectors.incremental import shown_watermark
from connectors.loaders.prepare import split_table, utc_naive
from connectors.masking import mask
from connectors.runtime import RunInfo, StreamStats, log
from connectors.spec.models import Load

if TYPE_CHECKING:
    from connectors.dialects.base import Address

Insert = Callable[[dict[str, Any]], None]

RECORD_WAIT = 30.0
"""Seconds a record waits for a file target another process writes (DuckDB, SQLite)."""
ERROR_CHARS = 4000
"""The most characters of an error a record keeps."""


def failure_record(
    run: RunInfo, load: Load, stats: StreamStats, stored: dict[str, str], error: BaseException
) -> dict[str, Any]:
    """The row of `_dagsmith_failed_runs` for a failed attempt; `stored` is the stream's
    committed state (which the failure left as it was)."""
    text = mask(str(error)) or type(error).__name__
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "stream": run.stream,
        "target_table": load.table,
        "mode": load.mode,
        "started_at": run.started_at,
        "finished_at": datetime.now(UTC),
        "rows_read": stats.rows_read,
        "rows_rejected": stats.rows_rejected,
        "rows_filtered": stats.rows_filtered,
        "watermark_before": shown_watermark(stored),
        "error": text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…",
    }


def record_failure(url: Address, record: dict[str, Any]) -> None:
    """Insert a failed attempt's record into the target (waiting a while for a file held).

    Raises:
        DagsmithError: The target refused the record or stayed out of reach.
    """
    # Only a failed stream gets here: tenacity (and the tornado it finds) stays out of the rest.
    from tenacity import (
        RetryCallState,
        Retrying,
        retry_if_exception_type,
        retry_never,
        stop_after_delay,
        wait_random_exponential,
    )

    dialect = dialect_for(url)
    row = {**record, **{k: stored_time(record[k], dialect) for k in ("started_at", "finished_at")}}
    # A file held by another process frees up soon; a server out of reach is not waited for.
    busy = retry_if_exception_type(TransientError) if dialect.file_database else retry_never

    def said(state: RetryCallState) -> None:
        if state.attempt_number == 1:  # once: a wait that is not said looks like a hang
            log.warning(
                "%s: the target is held by another process; waiting up to %.0f s to record "
                "the failed run",
                record["stream"],
                RECORD_WAIT,
            )

    waiting = Retrying(
        retry=busy,
        wait=wait_random_exponential(multiplier=0.05, max=2),
        stop=stop_after_delay(RECORD_WAIT),
        before_sleep=said,
        reraise=True,
    )
    native = dialect.native(url)
    if native is not None:
        waiting(native.record_failure, row)
        return
    with _inserting(url, dialect, record["target_table"]) as insert:
        waiting(insert, row)


def bookkeeping_schema(table: str, dialect: Dialect) -> str | None:
    """The schema of a target table's run records: the table's own (None: the default one).

    Where reflection cannot be trusted (DuckDB's finds a table in any schema when asked for
    none), the default schema is named.
    """
    schema = split_table(table)[0] if dialect.schemas else None
    return schema if schema or dialect.reflects else dialect.default_schema


def stored_time(moment: datetime, dialect: Dialect) -> datetime:
    """A zoned time as the database stores and compares it (naive UTC where `naive_utc`)."""
    return utc_naive(moment) if dialect.naive_utc else moment


@contextmanager
def _inserting(url: Address, dialect: Dialect, target: str) -> Iterator[Insert]:
    """Through SQLAlchemy: a function inserting a record of `target`'s runs (their table made
    when missing)."""
    import sqlalchemy as sa

    from connectors.loaders import tables
    from connectors.loaders.sql import translate

    url = sa.make_url(url)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    dialect.prepare_engine(engine)
    schema = bookkeeping_schema(target, dialect)
    table = tables.failed_runs_table(tables.new_metadata(dialect.name), schema)
    shown = url.render_as_string(hide_password=True)

    def insert(row: dict[str, Any]) -> None:
        try:
            with engine.connect() as conn, conn.begin():
                if not sa.inspect(conn).has_table(table.name, schema=table.schema):
                    dialect.lock_schema(conn, table.schema)
                    if table.schema:
                        conn.execute(sa.schema.CreateSchema(table.schema, if_not_exists=True))
                    conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
                conn.execute(sa.insert(table), [row])
        except sa.exc.DBAPIError as exc:
            where = f"recording the failed run of {row['stream']!r} at {shown}"
            raise translate(exc, where) from exc

    try:
        yield insert
    finally:
        engine.dispose()
