"""Health over days, from run records inserted with chosen times through the loaders' own
table definitions (`connectors.loaders.tables`), on PostgreSQL, MariaDB, SQLite and
DuckDB: real runs cannot wait for a schedule's days to pass. Judged as `dagsmith health`
judges, at a chosen moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connectors import health
from connectors.connections import Target
from connectors.dialects import dialect_for
from connectors.loaders import tables
from connectors.loaders.failed import bookkeeping_schema, stored_time
from connectors.spec.io import parse_spec
from tests.conftest import Database

DAY = datetime(2026, 11, 20, 6, 0, 5, tzinfo=UTC)


def insert(db: Database, table: str, rows: list[dict[str, Any]], *, failed: bool = False) -> None:
    """Run records of `table`'s stream, in the table (created when missing) a load writes."""
    dialect = dialect_for(db.url)
    schema = bookkeeping_schema(table, dialect)
    metadata = tables.new_metadata(dialect.name)
    made = (tables.failed_runs_table if failed else tables.runs_table)(metadata, schema)
    with db.engine.begin() as conn:
        if schema:
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        made.create(conn, checkfirst=True)
        stored = [
            {**row, **{k: stored_time(row[k], dialect) for k in ("started_at", "finished_at")}}
            for row in rows
        ]
        conn.execute(sa.insert(made), stored)


def run(day: int, seconds: float, table: str, **fields: Any) -> dict[str, Any]:
    """The record of a load on day `day` after DAY, at 06:00:05 UTC, of 1,000 rows."""
    started = DAY + timedelta(days=day)
    return {
        "run_id": f"scheduled__{started:%Y-%m-%d}",
        "pipeline": "shop",
        "stream": "orders",
        "target_table": table,
        "mode": "append",
        "started_at": started,
        "finished_at": started + timedelta(seconds=seconds),
        "rows_read": 1000,
        "rows_rejected": 0,
        "rows_filtered": 0,
        **fields,
    }


def spec(table: str, head: str = "") -> Any:
    return parse_spec(
        f"""
pipeline: shop
schedule: "0 6 * * *"
{head}
streams:
  - {{name: orders, source: {{kind: csv, path: o.csv}}, load: {{table: {table}}}}}
"""
    )


def judge(db: Database, pipeline: Any, now: datetime) -> dict[str, list[health.CheckResult]]:
    (stream,) = health.check_pipeline(pipeline, Target(db.url, "db"), now=now).streams
    found: dict[str, list[health.CheckResult]] = {}
    for result in stream.results:
        found.setdefault(result.check, []).append(result)
    return found


def test_freshness_follows_the_daily_schedule_and_a_slow_run_is_found(database: Database) -> None:
    table = database.table("orders")
    loaded = {"rows_loaded": 1000, "inserted": 1000, "updated": 0}
    insert(database, table, [run(day, 120, table, **loaded) for day in range(10)])
    slow = run(10, 600, table, **loaded)
    insert(database, table, [slow])
    due = datetime(2026, 12, 1, 18, 2, tzinfo=UTC)  # the next 06:00, half a day, 2 minutes

    before = judge(database, spec(table), due - timedelta(minutes=1))
    after = judge(database, spec(table), due + timedelta(minutes=1))

    assert before["freshness"][0].status == "ok"
    (late,) = after["freshness"]
    assert (late.status, late.severity, late.since) == ("failed", "critical", due)
    assert late.expected == (
        "a success by 2026-12-01 18:02:00 UTC (schedule '0 6 * * *': its next run after the "
        "last success, plus half an interval and the usual 2m)"
    )
    assert late.seen == "last success 2026-11-30 06:10:05 UTC, 1d 11h ago"
    (took,) = after["duration"]
    assert (took.status, took.since) == ("failed", slow["started_at"])
    assert took.seen == "10m for scheduled__2026-11-30"
    assert {check: r[0].status for check, r in after.items()} == {
        "last_run": "ok",
        "freshness": "failed",
        "volume": "ok",
        "rejects": "ok",
        "duration": "failed",
        "schema_drift": "ok",
    }


def test_failed_attempts_since_the_last_success_and_an_explicit_freshness(
    database: Database,
) -> None:
    table = database.table("orders")
    loaded = {"rows_loaded": 1000, "inserted": 1000, "updated": 0}
    insert(database, table, [run(day, 120, table, **loaded) for day in range(3)])
    attempts = [run(3, 30, table), run(3.01, 30, table), run(4, 30, table)]
    insert(
        database, table, [{**a, "error": "source file not found"} for a in attempts], failed=True
    )
    pipeline = spec(table, "monitor: {freshness: 26h}")

    found = judge(database, pipeline, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))

    (last,) = found["last_run"]
    assert (last.status, last.since) == ("failed", attempts[0]["started_at"])
    assert last.seen == (
        "3 failed attempt(s) since the last success; scheduled__2026-11-24: source file not found"
    )
    (fresh,) = found["freshness"]
    assert (fresh.status, fresh.since) == ("failed", datetime(2026, 11, 23, 8, 2, 5, tzinfo=UTC))
    assert (
        fresh.expected == "a success at most 1d 2h after the last one, by 2026-11-23 08:02:05 UTC"
    )
    waiting = {check for check, r in found.items() if r[0].status == "waiting"}
    assert waiting == {"volume", "rejects", "duration"}
