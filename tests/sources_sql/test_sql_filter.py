"""A filter pushed into a table's SELECT: bound values, only comparable types, same rows."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connectors.sources import read
from connectors.spec.models import Transform
from connectors.spec.sql import SqlSource
from connectors.transforms import pushdown
from tests.conftest import Database
from tests.conftest import read_context as make_ctx
from tests.sources_sql.conftest import run, use

ROWS = """\
CREATE TABLE {t} (id INTEGER, amount NUMERIC(10,2), day DATE, paid BOOLEAN, status VARCHAR(20));
INSERT INTO {t} VALUES
 (1, 10.50, '2024-01-01', TRUE, 'paid'), (2, 75.00, '2024-02-01', FALSE, 'PAID'),
 (3, NULL, '2024-03-01', TRUE, 'void'), (4, 120.25, NULL, TRUE, 'paid '),
 (5, 51.00, '2024-05-01', NULL, 'shipped'), (6, 50.00, '2024-06-01', TRUE, NULL)
"""


def _read(
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    rule: dict[str, Any],
    types: dict[str, str] | None = None,
    **source: Any,
) -> list[dict[str, Any]]:
    use(monkeypatch, db.url)
    spec = SqlSource(kind="sql", connection="src", **source)
    where = pushdown(Transform.model_validate({"filter": rule, "types": types or {}}))
    ctx = replace(make_ctx(tmp_path), where=where)
    return pa.Table.from_batches(list(read(spec, ctx))).sort_by("id").to_pylist()


@pytest.mark.parametrize(
    ("rule", "ids"),
    [
        ({"column": "amount", "op": ">", "value": 50}, [2, 4, 5]),
        ({"column": "amount", "op": "between", "value": ["50", 75]}, [2, 5, 6]),
        ({"column": "day", "op": ">=", "value": "2024-03-01"}, [3, 5, 6]),
        ({"column": "id", "op": "not_in", "value": [1, 2, 3]}, [4, 5, 6]),
        ({"column": "amount", "op": "is_null"}, [3]),
        (
            {
                "any": [
                    {"column": "id", "op": "<", "value": 2},
                    {"column": "amount", "op": ">", "value": 100},
                ]
            },
            [1, 4],
        ),
    ],
)
def test_pushed_tests_run_in_the_database(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    rule: dict[str, Any],
    ids: list[int],
) -> None:
    table = database.table("orders")
    run(database, ROWS.format(t=table))
    with caplog.at_level(logging.INFO, logger="dagsmith"):
        rows = _read(database, monkeypatch, tmp_path, rule, table=table)
    assert [row["id"] for row in rows] == ids
    [pushed] = [r.getMessage() for r in caplog.records if "filter pushed" in r.getMessage()]
    assert "WHERE" in pushed
    for value in ("50", "2024-03-01", "100"):
        assert value not in pushed.split("WHERE")[1]  # bound, not pasted


def test_text_tests_are_left_to_the_transform(
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """MariaDB's collation finds 'PAID' and 'paid ' equal to 'paid'; Arrow does not."""
    table = database.table("orders")
    run(database, ROWS.format(t=table))
    rule = {
        "all": [
            {"column": "status", "op": "=", "value": "paid"},
            {"column": "id", "op": "<=", "value": 4},
        ]
    }
    with caplog.at_level(logging.INFO, logger="dagsmith"):
        rows = _read(database, monkeypatch, tmp_path, rule, table=table)
    assert [row["id"] for row in rows] == [1, 2, 3, 4]
    [pushed] = [r.getMessage() for r in caplog.records if "filter pushed" in r.getMessage()]
    assert "status" not in pushed.split("WHERE")[1]


def test_a_query_source_is_never_rewritten(
    postgres: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    table = postgres.table("orders")
    run(postgres, ROWS.format(t=table))
    rule = {"column": "id", "op": "=", "value": 1}
    rows = _read(postgres, monkeypatch, tmp_path, rule, query=f"SELECT id FROM {table}")
    assert len(rows) == 6


def test_a_value_that_does_not_fit_is_not_pushed(
    postgres: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    table = postgres.table("orders")
    run(postgres, ROWS.format(t=table))
    rule = {"column": "id", "op": "=", "value": "1; DROP TABLE orders"}
    assert len(_read(postgres, monkeypatch, tmp_path, rule, table=table)) == 6


def test_a_column_cast_to_another_type_is_filtered_after_the_cast(
    postgres: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A test on a column the spec casts to another type must see the cast values."""
    table = postgres.table("orders")
    run(postgres, ROWS.format(t=table))
    rule = {"column": "amount", "op": ">", "value": 100}
    same = _read(postgres, monkeypatch, tmp_path, rule, {"amount": "decimal(10,2)"}, table=table)
    other = _read(postgres, monkeypatch, tmp_path, rule, {"amount": "integer"}, table=table)
    assert ([r["id"] for r in same], len(other)) == ([4], 6)
