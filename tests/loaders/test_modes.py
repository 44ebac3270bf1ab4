"""Append, replace and upsert on each real database, with rejects, dedupe and idempotency."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from connectors.errors import LoadError
from connectors.loaders import loader_for
from connectors.spec.models import Dedupe
from tests.conftest import Database
from tests.loaders.conftest import make_job


def _load(db: Database, **kwargs: object):  # type: ignore[no-untyped-def]
    table = kwargs.pop("table", db.table("orders"))
    data = kwargs.pop("data")
    return loader_for(db.url).load(make_job(table, data, **kwargs))  # type: ignore[arg-type]


def _runs(db: Database) -> list[tuple[object, ...]]:
    return db.rows(db.table("_dagsmith_runs"), "run_id")


def test_append_twice_adds_rows_and_records_runs(database: Database) -> None:
    first = _load(database, data={"id": [1, 2, 3], "name": ["a", "b", "c"]}, run_id="r1")
    second = _load(database, data={"id": [4], "name": ["d"]}, run_id="r2")

    assert (first.rows_loaded, first.inserted, second.inserted) == (3, 3, 1)
    assert [r[0] for r in database.rows(database.table("orders"))] == [1, 2, 3, 4]
    runs = _runs(database)
    assert [(r[0], r[1], r[2], r[4]) for r in runs] == [
        ("r1", "pipe", "orders", "append"),
        ("r2", "pipe", "orders", "append"),
    ]
    # rows_loaded, inserted, updated, rows_filtered
    assert [r[9:13] for r in runs] == [(3, 3, 0, 0), (1, 1, 0, 0)]


def test_append_of_an_interval_again_replaces_its_rows(database: Database) -> None:
    day1, day2 = "2024-05-01T00:00:00+00:00/2024-05-02T00:00:00+00:00", "2024-05-02/2024-05-03"
    _load(database, data={"id": [1, 2, 3]}, run_id="a", interval=day1)
    _load(database, data={"id": [10]}, run_id="b", interval=day2)
    again = _load(database, data={"id": [1, 2]}, run_id="c", interval=day1)

    assert (again.rows_loaded, again.replaced) == (2, 3)
    assert sorted(r[0] for r in database.rows(database.table("orders"))) == [1, 2, 10]
    assert [r[0] for r in _runs(database)] == ["a", "b", "c"]


def test_runs_table_of_an_older_release_gains_the_newer_columns(database: Database) -> None:
    runs = database.table("_dagsmith_runs")
    old = sa.Table(
        "_dagsmith_runs",
        sa.MetaData(),
        *(
            sa.Column(name, sa.String(255), primary_key=True)
            for name in ("run_id", "pipeline", "stream")
        ),
        sa.Column("target_table", sa.String(255), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("rows_read", "rows_rejected", "rows_loaded", "inserted", "updated")
        ),
        schema=database.schema,
    )
    with database.engine.begin() as conn:
        if database.schema:  # DuckDB's test schema is made by the first load
            conn.execute(sa.schema.CreateSchema(database.schema, if_not_exists=True))
        old.create(conn, checkfirst=False)
        conn.execute(
            old.insert(),
            {
                "run_id": "old",
                "pipeline": "pipe",
                "stream": "orders",
                "target_table": "x",
                "mode": "append",
                "started_at": datetime(2024, 1, 1),
                "finished_at": datetime(2024, 1, 1),
                "rows_read": 1,
                "rows_rejected": 0,
                "rows_loaded": 1,
                "inserted": 1,
                "updated": 0,
            },
        )
    job = make_job(database.table("orders"), {"id": [1, 2]}, run_id="new")
    job.stats.rows_filtered = 5
    job.stored_state = {"cursor": "7"}
    job.state = {"cursor": "9"}
    loader_for(database.url).load(job)
    with database.engine.connect() as conn:
        names = list(conn.execute(sa.select(sa.text("*")).select_from(old).limit(0)).keys())
    newer = ("rows_filtered", "watermark_before", "watermark_after", "schema_drift")
    assert tuple(names[-4:]) == newer
    by_run = {row[0]: dict(zip(names, row, strict=True)) for row in database.rows(runs, "run_id")}
    assert [by_run["old"][name] for name in newer] == [0, None, None, None]
    assert [by_run["new"][name] for name in newer] == [5, "7", "9", None]


def test_rerun_of_a_committed_run_is_skipped(database: Database) -> None:
    data = {"id": [1, 2], "name": ["a", "b"]}
    _load(database, data=data, run_id="same")
    again = _load(database, data=data, run_id="same")

    assert again.skipped and again.rows_loaded == 0
    assert len(database.rows(database.table("orders"))) == 2
    assert len(_runs(database)) == 1


def test_replace_swaps_content(database: Database) -> None:
    _load(database, data={"id": [1, 2], "name": ["a", "b"]}, run_id="r1")
    result = _load(database, data={"id": [9], "name": ["z"]}, mode="replace", run_id="r2")

    assert result.rows_loaded == 1
    assert database.rows(database.table("orders")) == [(9, "z")]


def test_replace_with_empty_extract_keeps_the_table(database: Database) -> None:
    _load(database, data={"id": [1, 2], "name": ["a", "b"]}, run_id="r1")
    empty = {"id": [], "name": []}
    kept = _load(database, data=empty, mode="replace", run_id="r2", declared={"id": "bigint"})

    assert kept.rows_loaded == 0
    assert len(database.rows(database.table("orders"))) == 2
    emptied = _load(
        database,
        data=empty,
        mode="replace",
        run_id="r3",
        allow_empty_replace=True,
        declared={"id": "bigint", "name": "string"},
    )
    assert emptied.rows_loaded == 0
    assert database.rows(database.table("orders")) == []


def test_upsert_twice_changes_nothing_the_second_time(database: Database) -> None:
    data = {"id": [1, 2, 3], "name": ["a", "b", None]}
    first = _load(database, data=data, mode="upsert", keys=["id"], run_id="r1")
    second = _load(database, data=data, mode="upsert", keys=["id"], run_id="r2")

    assert (first.inserted, first.updated) == (3, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert database.rows(database.table("orders")) == [(1, "a"), (2, "b"), (3, None)]


def test_upsert_inserts_new_and_updates_changed(database: Database) -> None:
    _load(database, data={"id": [1, 2], "name": ["a", "b"]}, mode="upsert", keys=["id"])
    result = _load(
        database,
        data={"id": [2, 3, 1], "name": ["B", "c", "a"]},
        mode="upsert",
        keys=["id"],
        run_id="r2",
    )

    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
    assert database.rows(database.table("orders")) == [(1, "a"), (2, "B"), (3, "c")]


def test_upsert_with_duplicate_keys_keeps_the_last(database: Database) -> None:
    data = {"id": [1, 2, 1, 1], "name": ["first", "x", "middle", "last"]}
    result = _load(database, data=data, mode="upsert", keys=["id"], batch_rows=1)

    assert (result.rows_loaded, result.deduplicated) == (2, 2)
    assert database.rows(database.table("orders")) == [(1, "last"), (2, "x")]


def test_null_key_goes_to_rejects(database: Database) -> None:
    data = {"id": [1, None, 2], "name": ["a", "orphan", "b"]}
    result = _load(database, data=data, mode="upsert", keys=["id"], run_id="r-null")

    assert result.rejects_written == 1
    assert database.rows(database.table("orders")) == [(1, "a"), (2, "b")]
    rejects = database.rows(database.table("orders__rejects"))
    assert rejects == [("r-null", None, "key", "key id is null", '{"id": null, "name": "orphan"}')]
    assert _runs(database)[0][8] == 1  # rows_rejected


@pytest.mark.parametrize(("keep", "expected"), [("first", "a1"), ("last", "a3")])
def test_dedupe_keeps_first_or_last(database: Database, keep: str, expected: str) -> None:
    data = {"k": ["a", "b", "a", "a"], "v": ["a1", "b1", "a2", "a3"]}
    result = _load(database, data=data, dedupe=Dedupe(keys=["k"], keep=keep), batch_rows=3)

    assert (result.rows_loaded, result.deduplicated) == (2, 2)
    assert database.rows(database.table("orders")) == [("a", expected), ("b", "b1")]


def test_dedupe_first_then_upsert_on_other_keys(database: Database) -> None:
    data = {"id": [1, 1, 2], "code": ["x", "y", "x"], "v": [1, 2, 3]}
    _load(
        database, data=data, mode="upsert", keys=["id"], dedupe=Dedupe(keys=["code"], keep="first")
    )

    # code x keeps its first row (id 1), then id 1 keeps its last row (code y)
    assert database.rows(database.table("orders")) == [(1, "y", 2)]


def test_before_commit_raising_rolls_everything_back(database: Database) -> None:
    _load(database, data={"id": [1], "name": ["a"]}, mode="upsert", keys=["id"], run_id="r1")

    def fail() -> None:
        raise LoadError("too many rejects")

    data = {"id": [1, 2, None], "name": ["changed", "b", "c"]}
    with pytest.raises(LoadError, match="too many rejects"):
        _load(database, data=data, mode="upsert", keys=["id"], run_id="r2", before_commit=fail)

    assert database.rows(database.table("orders")) == [(1, "a")]
    assert database.rows(database.table("orders__rejects")) == []
    assert [r[0] for r in _runs(database)] == ["r1"]


def test_state_is_upserted_with_the_load(database: Database) -> None:
    _load(database, data={"id": [1]}, state={"cursor": "2024-01-01"}, run_id="r1")
    _load(database, data={"id": [2]}, state={"cursor": "2024-02-01"}, run_id="r2")

    state = database.rows(database.table("_dagsmith_state"))
    assert [r[:4] for r in state] == [("pipe", "orders", "cursor", "2024-02-01")]


def test_schema_mismatch_lists_every_difference(database: Database) -> None:
    _load(database, data={"id": [1], "name": ["a"]})
    data = {"id": ["not a number"], "name": ["a"], "extra": [1.5]}

    with pytest.raises(LoadError) as error:
        _load(database, data=data, run_id="r2")

    text = str(error.value)
    assert "'id'" in text and "'extra'" in text and "'name'" not in text
    assert "hint:" in text


def test_hostile_column_names_are_data(database: Database) -> None:
    names = ['we"ird', "x; DROP TABLE orders; --", "with space", "ünï", "back`tick", "a%sb"]
    data = {n: [f"value {i}"] for i, n in enumerate(names)}
    data["id"] = [1]
    _load(database, data=data, mode="upsert", keys=["id"])
    again = _load(database, data=data, mode="upsert", keys=["id"], run_id="r2")

    assert again.unchanged == 1
    with database.engine.connect() as conn:
        table = sa.table("orders", schema=database.schema)
        result = conn.execute(sa.select(sa.text("*")).select_from(table))
        assert list(result.keys()) == [*names, "id"]
        assert list(result.one()) == [*(data[n][0] for n in names), 1]
