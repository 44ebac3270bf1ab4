"""Each database type arrives as the Arrow type of its spec type, NULLs included."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from connectors.errors import SourceError
from connectors.sources import sql_types
from connectors.sources.sql import column_types
from connectors.spec.sql import SqlSource
from connectors.types import ColumnType
from tests.conftest import Database

from .conftest import make_ctx, run, use

TEXT = "Grüße, 東京 🎉 'quoted' \"double\""
TS = datetime(2024, 1, 2, 3, 4, 5, 123456)
TZ_UTC = datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)


def _single(batches: list[pa.RecordBatch]) -> pa.Table:
    return pa.Table.from_batches(batches)


def _check(table: pa.Table, expected: dict[str, tuple[pa.DataType, Any]]) -> None:
    assert {n: table.schema.field(n).type for n in expected} == {
        n: t for n, (t, _) in expected.items()
    }
    first, second = table.to_pylist()
    for name, (_, value) in expected.items():
        got = json.loads(first[name]) if name.startswith("j") else first[name]
        assert got == value, name
    assert all(v is None for v in second.values())


def test_postgres_types_round_trip(postgres: Database, reader: Any) -> None:
    t = postgres.table("types")
    run(
        postgres,
        f"""CREATE TABLE {t} (i int, bi bigint, si smallint, n numeric(12,2),
            f double precision, r real, b boolean, d date, ts timestamp, tz timestamptz,
            j jsonb, js json, tx text, v varchar(40), u uuid, raw numeric);
        INSERT INTO {t} VALUES (1, 9007199254740993, 7, 1234.50, 1.5, 0.25, true,
            '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02',
            '{{"a": [1, "é"]}}', '"x"', '{TEXT.replace("'", "''")}', 'ok',
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 3.14159);
        INSERT INTO {t} DEFAULT VALUES""",
    )
    expected = {
        "i": (pa.int32(), 1),
        "bi": (pa.int64(), 9007199254740993),
        "si": (pa.int32(), 7),
        "n": (pa.decimal128(12, 2), Decimal("1234.50")),
        "f": (pa.float64(), 1.5),
        "r": (pa.float64(), 0.25),
        "b": (pa.bool_(), True),
        "d": (pa.date32(), date(2024, 2, 29)),
        "ts": (pa.timestamp("us"), TS),
        "tz": (pa.timestamp("us", tz="UTC"), TZ_UTC),
        "j": (pa.string(), {"a": [1, "é"]}),
        "js": (pa.string(), "x"),
        "tx": (pa.string(), TEXT),
        "v": (pa.string(), "ok"),
        "u": (pa.string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
        "raw": (pa.string(), "3.14159"),
    }
    _check(_single(reader(postgres, table=t)), expected)
    _check(_single(reader(postgres, query=f"SELECT * FROM {t} ORDER BY i NULLS LAST")), expected)


def test_mariadb_types_round_trip(mariadb: Database, reader: Any) -> None:
    run(
        mariadb,
        f"""SET time_zone = '+02:00';
        CREATE TABLE types (i int, bi bigint, si smallint, n decimal(12,2), f double,
            b boolean, d date, dt datetime(6), tz timestamp(6) NULL, j json, tx text,
            v varchar(40), ui int unsigned);
        INSERT INTO types VALUES (1, 9007199254740993, 7, 1234.50, 1.5, true, '2024-02-29',
            '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05', '{{"a": [1, "é"]}}',
            '{TEXT.replace("'", "''")}', 'ok', 4000000000);
        INSERT INTO types () VALUES ()""",
    )
    expected = {
        "i": (pa.int32(), 1),
        "bi": (pa.int64(), 9007199254740993),
        "si": (pa.int32(), 7),
        "n": (pa.decimal128(12, 2), Decimal("1234.50")),
        "f": (pa.float64(), 1.5),
        "b": (pa.int32(), 1),
        "d": (pa.date32(), date(2024, 2, 29)),
        "dt": (pa.timestamp("us"), TS),
        "tz": (pa.timestamp("us", tz="UTC"), TZ_UTC.replace(microsecond=0)),
        "j": (pa.string(), {"a": [1, "é"]}),
        "tx": (pa.string(), TEXT),
        "v": (pa.string(), "ok"),
        "ui": (pa.int64(), 4000000000),
    }
    _check(_single(reader(mariadb, table="types")), expected)
    by_query = _single(reader(mariadb, query="SELECT * FROM types ORDER BY i IS NULL"))
    assert by_query.column("n").type == pa.decimal128(13, 2)  # a description omits the sign
    assert by_query.to_pylist()[0]["tz"] == TZ_UTC.replace(microsecond=0)
    assert json.loads(by_query.to_pylist()[0]["j"]) == {"a": [1, "é"]}


def test_sqlite_types_round_trip(sqlite: Database, reader: Any) -> None:
    run(
        sqlite,
        f"""CREATE TABLE types (i INTEGER, n NUMERIC(12,2), f REAL, b BOOLEAN, d DATE,
            ts DATETIME, j JSON, tx TEXT);
        INSERT INTO types VALUES (9007199254740993, 1234.5, 1.5, 1, '2024-02-29',
            '2024-01-02 03:04:05.123456', '{{"a": [1, "é"]}}', '{TEXT.replace("'", "''")}');
        INSERT INTO types DEFAULT VALUES""",
    )
    expected = {
        "i": (pa.int64(), 9007199254740993),
        "n": (pa.decimal128(12, 2), Decimal("1234.50")),
        "f": (pa.float64(), 1.5),
        "b": (pa.bool_(), True),
        "d": (pa.date32(), date(2024, 2, 29)),
        "ts": (pa.timestamp("us"), TS),
        "j": (pa.string(), {"a": [1, "é"]}),
        "tx": (pa.string(), TEXT),
    }
    _check(_single(reader(sqlite, table="types")), expected)


def test_column_types_reads_no_row(
    postgres: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    t = postgres.table("orders")
    run(postgres, f"CREATE TABLE {t} (id bigint, amount numeric(10,2), at timestamptz)")
    use(monkeypatch, postgres.url)
    ctx = make_ctx(tmp_path)
    by_table = column_types(SqlSource(kind="sql", connection="src", table=t), ctx)
    query = f"SELECT id, amount * 2 AS twice, at FROM {t} WHERE id > 1"
    by_query = column_types(SqlSource(kind="sql", connection="src", query=query), ctx)
    assert {k: str(v) for k, v in by_table.items()} == {
        "id": "bigint",
        "amount": "decimal(10,2)",
        "at": "timestamptz",
    }
    assert {k: str(v) for k, v in by_query.items()} == {
        "id": "bigint",
        "twice": "string",
        "at": "timestamptz",
    }


def test_a_null_in_a_not_null_column_is_refused_not_passed_on() -> None:
    # Arrow takes it; a NOT NULL target column or a Parquet file would not.
    schema = sql_types.arrow_schema({"id": ColumnType("integer")}, {"id"})
    assert not schema.field("id").nullable
    with pytest.raises(SourceError, match="'id' is NOT NULL in the catalog"):
        sql_types.to_batch([(1,), (None,)], schema, [ColumnType("integer")], True, "src")
