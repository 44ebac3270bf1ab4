"""Two pipelines upserting one table at once, with overlapping keys: both succeed, and each
row is one writer's version whole (real PostgreSQL and MariaDB, real threads)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from connectors.loaders import loader_for
from connectors.loaders.base import LoadJob, LoadResult
from connectors.runtime import RunInfo
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
