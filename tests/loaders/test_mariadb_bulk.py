"""MariaDB loads: rows sent by LOAD DATA LOCAL INFILE, upsert counts from affected rows,
the dedupe done in place in staging."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.dialects import mysql
from connectors.errors import LoadError
from connectors.loaders import loader_for, sql_merge
from connectors.loaders.base import LoadResult
from tests.conftest import Database
from tests.loaders.conftest import make_job


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The columns of each file the MariaDB loader sends."""
    sent: list[list[str]] = []
    real = mysql._load_file

    def spy(conn: sa.Connection, table: sa.TableClause, columns: list[str], path: str) -> Any:
        sent.append(columns)
        return real(conn, table, columns, path)

    monkeypatch.setattr(mysql, "_load_file", spy)
    return sent


@pytest.fixture
def dedupes(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The dedupe passes run on the staged rows."""
    calls: list[object] = []
    real = sql_merge.dedupe

    def spy(conn: sa.Connection, stage: sa.Table, passes: list[tuple[list[str], str]]) -> int:
        calls.append(passes)
        return real(conn, stage, passes)

    monkeypatch.setattr(sql_merge, "dedupe", spy)
    return calls


def _upsert(db: Database, data: dict[str, list[Any]] | pa.Table, **kwargs: Any) -> LoadResult:
    job = make_job(db.table("orders"), data, mode="upsert", keys=["id"], **kwargs)
    return loader_for(db.url).load(job)


def _counts(result: LoadResult) -> tuple[int, ...]:
    return (result.inserted, result.updated, result.unchanged, result.deduplicated)


HARD = ["tab\there", "line\nbreak\r\n", "back\\slash", "\\N", "NULL", "", "café ☕", '"q"']


def test_text_sent_as_a_file_comes_back_byte_for_byte(
    mariadb: Database, files: list[list[str]]
) -> None:
    data = {"id": list(range(len(HARD) + 1)), "v": [*HARD, None]}
    _upsert(mariadb, data, batch_rows=4)

    assert files == [["id", "v", "_dagsmith_seq"]] * 3
    assert mariadb.rows(mariadb.table("orders")) == list(zip(data["id"], data["v"], strict=True))


def test_upsert_counts_case_null_and_unchanged_rows_as_the_server_writes_them(
    mariadb: Database, files: list[list[str]]
) -> None:
    first: dict[str, list[Any]] = {"id": [1, 2, 3, 4, 5], "v": ["a", "B", "c", None, "e "]}
    _upsert(mariadb, first, run_id="r1")
    second: dict[str, list[Any]] = {"id": [1, 2, 3, 4, 5, 6], "v": ["a", "b", None, "d", "e"]}
    second["v"].append("f")
    result = _upsert(mariadb, second, run_id="r2")

    assert files  # sent as files: the counts come from the merge's affected rows
    # 'B' -> 'b' and 'e ' -> 'e' are equal to the collation, yet rewritten: updates.
    assert _counts(result) == (1, 4, 1, 0)
    assert mariadb.rows(mariadb.table("orders")) == list(
        zip(second["id"], second["v"], strict=True)
    )


def test_keys_in_order_skip_the_dedupe_and_repeated_ones_keep_the_last(
    mariadb: Database, dedupes: list[object]
) -> None:
    in_order = _upsert(mariadb, {"id": [1, 2, 3], "v": ["a", "b", "c"]}, run_id="r1")
    repeated = _upsert(mariadb, {"id": [3, 1, 3], "v": ["x", "a", "y"]}, run_id="r2")

    assert dedupes == [[], [(["id"], "last")]]
    assert _counts(in_order) == (3, 0, 0, 0)
    assert _counts(repeated) == (0, 1, 1, 1)
    assert mariadb.rows(mariadb.table("orders")) == [(1, "a"), (2, "b"), (3, "y")]


def test_text_keys_equal_to_the_collation_are_deduplicated_as_the_server_sees_them(
    mariadb: Database, dedupes: list[object]
) -> None:
    table = mariadb.table("orders")
    data: dict[str, list[Any]] = {"id": ["A", "a", "b"], "v": [1, 2, 3]}
    result = loader_for(mariadb.url).load(make_job(table, data, mode="upsert", keys=["id"]))

    assert dedupes == [[(["id"], "last")]]  # 'A' < 'a' in Arrow: no proof of uniqueness
    assert (result.rows_loaded, result.deduplicated) == (2, 1)
    assert mariadb.rows(table) == [("a", 2), ("b", 3)]


@pytest.mark.parametrize("mode", ["append", "upsert"])
def test_a_value_that_does_not_fit_names_its_row_and_leaves_the_table(
    mariadb: Database, mode: str
) -> None:
    table = mariadb.table("orders")
    with mariadb.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, code VARCHAR(3))"))
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (1, 'old')"))
    data = {"id": [2, 3, 4, 5, 6], "code": ["new", "ab", "cd", "toolong", "ef"]}
    job = make_job(table, data, mode=mode, keys=["id"] if mode == "upsert" else None)

    with pytest.raises(LoadError, match=r"column 'code' at row 4\b"):
        loader_for(mariadb.url).load(job)
    assert mariadb.rows(table) == [(1, "old")]
