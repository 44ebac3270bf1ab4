"""PostgreSQL upserts merged chunk by chunk while a second connection stages the next."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import LoadError, RejectLimitExceeded
from connectors.loaders import postgres_stager
from connectors.loaders.base import LoadResult
from connectors.loaders.postgres import PostgresLoader
from connectors.spec.models import Dedupe
from tests.conftest import Database
from tests.loaders.conftest import make_job
from tests.loaders.test_crash import kill_mid_load


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4, then 8 rows: a few rows make several chunks."""
    monkeypatch.setattr(postgres_stager, "FIRST_CHUNK", 4)
    monkeypatch.setattr(postgres_stager, "LARGEST_CHUNK", 8)


def _upsert(db: Database, data: dict[str, list[Any]] | pa.Table, **kw: Any) -> LoadResult:
    job = make_job(db.table("orders"), data, mode="upsert", keys=["id"], **kw)
    return PostgresLoader(db.url).load(job)


def _stage_tables(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace(:schema) "
                    "AND starts_with(relname, '_dagsmith_stage')"
                ),
                {"schema": db.schema},
            ).scalars()
        )


def _activity(db: Database, counted: str, where: str) -> int:
    """count(`counted`) over the server's sessions that match `where`."""
    with db.engine.begin() as conn:
        sql = f"SELECT count({counted}) FROM pg_stat_activity WHERE {where}"
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_keys_out_of_order_and_repeated_across_chunks_end_as_one_merge(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged: list[int] = []
    stage = postgres_stager.Stager._stage_chunk

    def counted(self: postgres_stager.Stager, *args: Any) -> postgres_stager.Chunk:
        chunk = stage(self, *args)
        staged.append(chunk.rows)
        return chunk

    monkeypatch.setattr(postgres_stager.Stager, "_stage_chunk", counted)
    rng = random.Random(7)
    first: dict[str, list[Any]] = {
        "id": list(range(0, 20, 2)),
        "v": [f"old{i}" for i in range(0, 20, 2)],
    }
    _upsert(postgres, first, run_id="r1")
    ids = [rng.randrange(30) for _ in range(60)]  # new keys, old keys, repeats, any order
    values = [f"v{n}" if n % 3 else None for n in range(60)]

    result = _upsert(postgres, {"id": ids, "v": values}, run_id="r2", batch_rows=3)

    expected = dict(zip(first["id"], first["v"], strict=True))
    expected.update(zip(ids, values, strict=True))  # the last row of a key wins
    assert postgres.rows(postgres.table("orders")) == sorted(expected.items())
    assert result.inserted == len(set(ids) - set(first["id"]))  # each new key once
    # Chunks of at least 4, then 8 rows, in whole batches (2 rows in the first run, 3 after)
    assert staged == [4, 6] + [6] + [9] * 6
    assert _stage_tables(postgres) == []


def test_counts_when_keys_arrive_in_order(postgres: Database) -> None:
    _upsert(postgres, {"id": list(range(10)), "v": ["a"] * 10}, run_id="r1")
    data: dict[str, list[Any]] = {"id": list(range(5, 25)), "v": ["a"] * 5 + ["b"] * 15}

    result = _upsert(postgres, data, run_id="r2")

    assert (result.inserted, result.updated, result.unchanged, result.deduplicated) == (15, 0, 5, 0)
    assert len(postgres.rows(postgres.table("orders"))) == 25


def test_a_failed_merge_stops_staging_and_leaves_the_target(postgres: Database) -> None:
    table = postgres.table("orders")
    with postgres.engine.begin() as conn:
        conn.execute(
            sa.text(f"CREATE TABLE {table} (id bigint PRIMARY KEY, v text CHECK (v <> 'bad'))")
        )
    _upsert(postgres, {"id": [1, 2], "v": ["a", "b"]}, run_id="r1")
    data: dict[str, list[Any]] = {"id": list(range(100)), "v": ["bad"] + ["x"] * 99}

    with pytest.raises(LoadError, match="check constraint"):
        _upsert(postgres, data, run_id="r2")

    assert postgres.rows(table) == [(1, "a"), (2, "b")]
    assert _stage_tables(postgres) == []


def test_a_staging_error_names_the_column_and_leaves_the_target(postgres: Database) -> None:
    table = postgres.table("orders")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id bigint PRIMARY KEY, n smallint)"))
    data = pa.table({"id": list(range(20)), "n": [1] * 19 + [70_000]})

    with pytest.raises(LoadError, match="column 'n'"):
        _upsert(postgres, data, run_id="r1")

    assert postgres.rows(table) == []
    assert _stage_tables(postgres) == []


def test_a_reject_limit_hit_after_the_merges_rolls_them_back(postgres: Database) -> None:
    _upsert(postgres, {"id": [1], "v": ["a"]}, run_id="r1")

    def over_the_limit() -> None:
        raise RejectLimitExceeded("too many rejects")

    with pytest.raises(RejectLimitExceeded):
        data: dict[str, list[Any]] = {"id": list(range(20)), "v": ["b"] * 20}
        _upsert(postgres, data, run_id="r2", before_commit=over_the_limit)

    assert postgres.rows(postgres.table("orders")) == [(1, "a")]
    assert _stage_tables(postgres) == []


def test_a_dedupe_keeping_the_first_row_keeps_it_across_chunks(postgres: Database) -> None:
    data: dict[str, list[Any]] = {"id": [3, 1, 3, 2, 1] * 4, "v": list("abcdefghijklmnopqrst")}

    _upsert(postgres, data, dedupe=Dedupe(keys=["id"], keep="first"))

    assert postgres.rows(postgres.table("orders")) == [(1, "b"), (2, "d"), (3, "a")]


def test_tables_left_by_a_killed_run_are_dropped_by_the_next(postgres: Database) -> None:
    kill_mid_load(postgres, "upsert")
    assert len(_stage_tables(postgres)) == 1

    _upsert(postgres, {"id": [1], "name": ["a"]}, run_id="r2")

    assert _stage_tables(postgres) == []


def test_a_stager_connection_lost_after_staging_leaves_the_load_committed(
    postgres: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def cut_the_stager() -> None:
        cut = _activity(
            postgres, "pg_terminate_backend(pid)", "application_name = 'dagsmith-stager'"
        )
        assert cut == 1

    result = _upsert(postgres, {"id": [1, 2], "v": ["a", "b"]}, before_commit=cut_the_stager)

    assert result.rows_loaded == 2
    assert postgres.rows(postgres.table("orders")) == [(1, "a"), (2, "b")]
    assert "staging tables left for the stream's next run" in caplog.text
    assert len(_stage_tables(postgres)) == 1
    _upsert(postgres, {"id": [3], "v": ["c"]}, run_id="r2")
    assert _stage_tables(postgres) == []


def test_two_runs_of_one_stream_take_turns_and_keep_their_own_tables(postgres: Database) -> None:
    second_waits = threading.Event()

    def hold_until_the_second_waits() -> None:
        assert second_waits.wait(timeout=30)

    def watch_for_the_second() -> None:
        for _ in range(300):
            if _activity(postgres, "*", "wait_event_type = 'Lock' AND wait_event = 'advisory'"):
                second_waits.set()
                return
            time.sleep(0.05)

    first: dict[str, list[Any]] = {"id": list(range(20)), "v": ["first"] * 20}
    second: dict[str, list[Any]] = {"id": list(range(10, 30)), "v": ["second"] * 20}
    with ThreadPoolExecutor(max_workers=3) as pool:
        one = pool.submit(
            _upsert, postgres, first, run_id="r1", before_commit=hold_until_the_second_waits
        )
        while not (_stage_tables(postgres) or one.done()):  # staging: it holds the lock
            time.sleep(0.01)
        watcher = pool.submit(watch_for_the_second)
        two = pool.submit(_upsert, postgres, second, run_id="r2")
        watcher.result()
        results = one.result(), two.result()

    assert second_waits.is_set()
    assert [(r.inserted, r.updated) for r in results] == [(20, 0), (10, 10)]
    rows = postgres.rows(postgres.table("orders"))
    assert rows == [(i, "first") for i in range(10)] + [(i, "second") for i in range(10, 30)]
    assert _stage_tables(postgres) == []


def test_a_role_allowed_one_connection_stages_on_it(
    postgres: Database, caplog: pytest.LogCaptureFixture
) -> None:
    role = f"{postgres.schema}_one"
    with postgres.engine.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 1'))
        conn.execute(sa.text(f'GRANT ALL ON SCHEMA "{postgres.schema}" TO "{role}"'))
        conn.execute(sa.text(f'GRANT CREATE ON DATABASE "{postgres.url.database}" TO "{role}"'))
    try:
        one = Database(postgres.url.set(username=role), postgres.schema, postgres.engine)
        result = _upsert(one, {"id": [2, 1, 2], "v": ["a", "b", "c"]})
    finally:
        with postgres.engine.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))

    assert (result.inserted, result.deduplicated) == (2, 1)
    assert "staging on the load's own connection" in caplog.text
