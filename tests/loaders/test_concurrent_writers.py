"""Two pipelines upserting one table at once, with overlapping keys: both succeed, and each
row is one writer's version whole (real PostgreSQL and MariaDB, real threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.loaders import loader_for, postgres_ddl
from connectors.loaders.base import LoadJob, LoadResult
from connectors.loaders.postgres import PostgresLoader
from connectors.runner import run_pipeline
from connectors.runtime import RunInfo
from connectors.spec import parse_spec
from tests.conftest import Database
from tests.loaders.conftest import make_job

KEYS = 3_000


def writer_job(db: Database, pipeline: str, start: int, factor: int) -> LoadJob:
    """Keys start..start+KEYS, in descending order (so the two lock keys in opposite
    orders), each row marked with its writer in two columns."""
    ids = (
        list(range(start + KEYS - 1, start - 1, -1))
        if factor == 2
        else list(range(start, start + KEYS))
    )
    job = make_job(
        db.table("shared"),
        {"id": ids, "writer": [pipeline] * KEYS, "value": [i * factor for i in ids]},
        mode="upsert",
        keys=["id"],
        batch_rows=500,
        run_id=f"run-{pipeline}",
    )
    job.run = RunInfo(job.run.run_id, pipeline, "orders", datetime.now(UTC))
    return job


def race(db: Database) -> dict[str, LoadResult | BaseException]:
    """Run both writers, released at the same instant."""
    jobs = {"a": writer_job(db, "a", 0, 1), "b": writer_job(db, "b", KEYS // 2, 2)}
    outcome: dict[str, LoadResult | BaseException] = {}
    barrier = threading.Barrier(len(jobs))

    def load(name: str) -> None:
        barrier.wait()
        try:
            outcome[name] = loader_for(db.url).load(jobs[name])
        except BaseException as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=load, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcome


@pytest.fixture(params=["postgres", "mariadb"])
def server(request: pytest.FixtureRequest) -> Database:
    db: Database = request.getfixturevalue(request.param)
    return db


@pytest.mark.parametrize("table_exists", [False, True])
def test_two_writers_of_one_table_both_succeed(server: Database, table_exists: bool) -> None:
    if table_exists:
        loader_for(server.url).load(
            make_job(
                server.table("shared"),
                {"id": [0], "writer": ["x"], "value": [0]},
                mode="upsert",
                keys=["id"],
                run_id="seed",
            )
        )
    outcome = race(server)
    assert all(isinstance(r, LoadResult) for r in outcome.values()), outcome
    rows = server.rows(server.table("shared"))
    assert len(rows) == KEYS + KEYS // 2
    factor = {"a": 1, "b": 2}
    for key, writer, value in rows:
        assert value == key * factor[writer], (key, writer, value)  # one writer's row, whole
    overlap = {w for k, w, _ in rows if KEYS // 2 <= k < KEYS}
    assert len(overlap) == 1  # the writers took turns: the later one's version of every key
    with server.engine.connect() as conn:
        runs = conn.exec_driver_sql(f"SELECT count(*) FROM {server.table('_dagsmith_runs')}")
        assert runs.scalar() == 2 + table_exists


def wait_for_lock_wait(db: Database, timeout: float = 20.0) -> None:
    """Until some backend of the test database waits on a row lock in an INSERT."""
    deadline = time.monotonic() + timeout
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE %(q)s AND pid <> pg_backend_pid()"
    )
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.exec_driver_sql(query, {"q": f"%{db.schema}%"}).scalar():
                return
            conn.rollback()  # pg_stat_activity is a snapshot per transaction
            time.sleep(0.05)
    raise AssertionError("the load never waited on the other writer's row")


def seeded(db: Database) -> str:
    """A table `shared` holding rows 1 and 2, written by 'x'."""
    table = db.table("shared")
    seed = {"id": [1, 2], "writer": ["x", "x"], "value": [0, 0]}
    loader_for(db.url).load(make_job(table, seed, mode="upsert", keys=["id"], run_id="s"))
    return table


@contextmanager
def other_writer(db: Database, sql: str, then: str | None = None) -> Iterator[None]:
    """Another session runs `sql`; once a load waits on it, it runs `then` and commits."""
    other = db.engine.connect()
    other.exec_driver_sql(sql)

    def finish() -> None:
        wait_for_lock_wait(db)
        if then:
            other.exec_driver_sql(then)
        other.commit()

    thread = threading.Thread(target=finish)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=60)
        other.close()


def deadlocking(db: Database, table: str) -> AbstractContextManager[None]:
    """Another session holds row 2, and takes row 1 once a load of both waits on row 2."""
    update = f"UPDATE {table} SET writer = 'e' WHERE id = "
    return other_writer(db, f"{update}2", then=f"{update}1")


@pytest.mark.postgres
def test_a_deadlock_with_another_writer_is_retried(postgres: Database) -> None:
    table = seeded(postgres)
    mine = {"id": [1, 2], "writer": ["d", "d"], "value": [1, 2]}
    loader = PostgresLoader(postgres.url)
    with deadlocking(postgres, table):
        result = loader.load(make_job(table, mine, mode="upsert", keys=["id"]))
    assert result.updated == 2
    assert postgres.rows(table) == [(1, "d", 1), (2, "d", 2)]  # the retry ran after the other


@pytest.mark.postgres
def test_a_stream_whose_load_met_a_deadlock_is_run_again_by_dagsmith_run(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A conflict that the merge's own retries do not absorb (here: none allowed) fails the
    load as transient, and `dagsmith run` runs the whole stream again."""
    monkeypatch.setattr(postgres_ddl, "retrying", lambda _session, _stream, step: step())
    table = seeded(postgres)
    (tmp_path / "mine.csv").write_text("id,writer,value\n1,d,1\n2,d,2\n")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    spec = parse_spec(
        f"""
pipeline: mine
target: warehouse
streams:
  - name: mine
    source: {{kind: csv, path: mine.csv}}
    transform: {{types: {{id: bigint, value: bigint}}}}
    load: {{table: {table}, mode: upsert, keys: [id]}}
"""
    )
    with deadlocking(postgres, table):
        summary = run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path)
    (result,) = summary.streams
    assert result.error is None and result.load is not None and result.load.updated == 2
    assert "deadlock" in caplog.text and "running the stream again" in caplog.text
    assert postgres.rows(table) == [(1, "d", 1), (2, "d", 2)]
