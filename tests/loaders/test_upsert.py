"""Upsert paths: keys proven unique while staging skip the dedupe, any other keys take it."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import LoadError
from connectors.loaders import loader_for
from connectors.loaders import postgres as pg_loader
from connectors.loaders.base import LoadResult
from connectors.loaders.postgres_sql import Plan, deduped
from connectors.loaders.prepare import SortedKey
from tests.conftest import Database
from tests.loaders.conftest import make_job


@pytest.fixture
def dedupes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every dedupe the PostgreSQL loader runs on the staged rows."""
    calls: list[object] = []

    def spy(plan: Plan, passes: list[tuple[list[str], str]], source: str) -> str:
        calls.append(passes)
        return deduped(plan, passes, source)

    monkeypatch.setattr(pg_loader, "deduped", spy)
    return calls


def _upsert(db: Database, data: dict[str, list[Any]], **kwargs: Any) -> LoadResult:
    table = kwargs.pop("table", db.table("orders"))
    keys = kwargs.pop("keys", ["id"])
    job = make_job(table, data, mode="upsert", keys=keys, **kwargs)
    return loader_for(db.url).load(job)


def _counts(result: LoadResult) -> tuple[int, ...]:
    return (result.inserted, result.updated, result.unchanged, result.deduplicated)


def test_keys_in_order_skip_the_dedupe_with_the_same_result(
    postgres: Database, dedupes: list[object]
) -> None:
    _upsert(postgres, {"id": [1, 2, 3], "v": ["a", "b", "c"]}, run_id="r1")
    data: dict[str, list[Any]] = {"id": [1, 2, 3, 4, 5], "v": ["a", "B", None, "d", "e"]}
    result = _upsert(postgres, data, run_id="r2")

    assert dedupes == []
    assert _counts(result) == (2, 2, 1, 0)
    assert postgres.rows(postgres.table("orders")) == list(zip(data["id"], data["v"], strict=True))


@pytest.mark.parametrize("batch_rows", [2, 4], ids=["across batches", "in one batch"])
def test_a_duplicate_key_in_order_is_still_deduplicated(
    postgres: Database, dedupes: list[object], batch_rows: int
) -> None:
    data: dict[str, list[Any]] = {"id": [1, 2, 2, 3], "v": ["a", "first", "last", "c"]}
    result = _upsert(postgres, data, batch_rows=batch_rows)

    assert dedupes == [[(["id"], "last")]]
    assert (result.rows_loaded, result.deduplicated) == (3, 1)
    assert postgres.rows(postgres.table("orders")) == [(1, "a"), (2, "last"), (3, "c")]


def test_keys_cast_on_arrival_are_deduplicated_as_their_type(
    postgres: Database, dedupes: list[object]
) -> None:
    table = postgres.table("tokens")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id uuid PRIMARY KEY, v text)"))
    upper, lower = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    result = _upsert(postgres, {"id": [upper, lower], "v": ["first", "last"]}, table=table)

    assert len(dedupes) == 1  # the texts differ and ascend, yet the uuids are one
    assert (result.rows_loaded, result.deduplicated) == (1, 1)
    assert [r[1] for r in postgres.rows(table)] == ["last"]


def test_composite_keys(database: Database) -> None:
    first: dict[str, list[Any]] = {"a": [1, 1, 2], "b": ["x", "y", "x"], "v": [1, 2, 3]}
    _upsert(database, first, keys=["a", "b"], run_id="r1")
    second: dict[str, list[Any]] = {"a": [2, 1, 3], "b": ["x", "y", "x"], "v": [3, 20, 4]}
    result = _upsert(database, second, keys=["a", "b"], run_id="r2")

    assert _counts(result) == (1, 1, 1, 0)
    rows = database.rows(database.table("orders"), "1, 2")
    assert rows == [(1, "x", 1), (1, "y", 20), (2, "x", 3), (3, "x", 4)]


def test_a_table_of_keys_only(database: Database) -> None:
    _upsert(database, {"id": [1, 2]}, run_id="r1")
    result = _upsert(database, {"id": [2, 3]}, run_id="r2")

    assert _counts(result) == (1, 0, 1, 0)
    assert database.rows(database.table("orders")) == [(1,), (2,), (3,)]


def test_a_unique_index_serves_as_the_key_and_a_partial_one_does_not(postgres: Database) -> None:
    table, partial = postgres.table("indexed"), postgres.table("partial")
    with postgres.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id bigint, v text)"))
        conn.execute(sa.text(f"CREATE UNIQUE INDEX ON {table} (id) INCLUDE (v)"))
        conn.execute(sa.text(f"CREATE TABLE {partial} (id bigint, v text)"))
        conn.execute(sa.text(f"CREATE UNIQUE INDEX ON {partial} (id) WHERE id > 0"))
    _upsert(postgres, {"id": [1], "v": ["a"]}, table=table, run_id="r1")
    result = _upsert(postgres, {"id": [1], "v": ["b"]}, table=table, run_id="r2")

    assert _counts(result) == (0, 1, 0, 0)
    with pytest.raises(LoadError, match="unique index on exactly the upsert keys"):
        _upsert(postgres, {"id": [1], "v": ["a"]}, table=partial)


def _proves(*batches: list[Any]) -> bool:
    key = SortedKey("k")
    for _ in key.watch(iter(pa.record_batch({"k": b}) for b in batches)):
        pass
    return key.unique


@pytest.mark.parametrize(
    ("batches", "unique"),
    [
        ([[1, 2], [3, 4]], True),
        ([[2, 1], [4, 3]], True),  # any order inside a batch
        ([[1, 2], [], [3]], True),
        ([["a", "b"], ["c"]], True),
        ([[1, 2], [2, 3]], False),
        ([[1, 1], [3]], False),
        ([[3], [1, 2]], False),
        ([[1, None], [3]], False),
    ],
)
def test_sorted_key_proves_uniqueness_only_when_it_holds(
    batches: list[list[Any]], unique: bool
) -> None:
    assert _proves(*batches) is unique


def test_sorted_key_drops_only_the_passes_on_its_column() -> None:
    passes = [(["code"], "first"), (["k"], "last"), (["k", "code"], "last")]
    proven, unproven = SortedKey("k"), SortedKey(None)

    assert proven.needed(passes) == [(["code"], "first")]
    assert unproven.needed(passes) == passes
