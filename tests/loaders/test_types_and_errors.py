"""Types round-trip; driver errors become dagsmith errors without secrets; the registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import loader_for
from connectors.loaders.postgres import PostgresLoader
from connectors.loaders.sql import SqlLoader
from connectors.loaders.sqlite import SqliteTarget
from tests.conftest import Database
from tests.loaders.conftest import make_job

UTC = dt.UTC


def _typed_table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "price": pa.array([12.34, None], pa.float64()),
            "at": pa.array(
                [dt.datetime(2024, 5, 1, 6, 30, 0, 123456, tzinfo=UTC), None],
                pa.timestamp("us", tz="UTC"),
            ),
            "doc": pa.array([{"a": 1, "b": [1, 2]}, None]),
            "day": pa.array([dt.date(2024, 2, 29), None], pa.date32()),
            "ok": pa.array([True, None]),
            "ratio": pa.array([0.5, None], pa.float64()),
            "note": pa.array(["", None]),
        }
    )


def test_types_round_trip(database: Database) -> None:
    declared = {"price": "decimal(12,2)", "at": "timestamptz", "doc": "json"}
    job = make_job(database.table("typed"), _typed_table(), declared=declared)
    loader_for(database.url).load(job)

    first, second = database.rows(database.table("typed"))
    doc = first[3] if isinstance(first[3], dict) else __import__("json").loads(first[3])
    at = dt.datetime.fromisoformat(first[2]) if isinstance(first[2], str) else first[2]
    at = at if at.tzinfo else at.replace(tzinfo=UTC)  # MariaDB and SQLite store naive UTC
    assert first[0] == 1 and Decimal(str(first[1])) == Decimal("12.34")
    assert at == dt.datetime(2024, 5, 1, 6, 30, 0, 123456, tzinfo=UTC)
    assert doc == {"a": 1, "b": [1, 2]}
    assert str(first[4]) == "2024-02-29" and bool(first[5]) is True
    assert first[6] == 0.5 and first[7] == ""  # an empty string is not NULL
    assert second == (2, None, None, None, None, None, None, None)


def test_postgres_declared_types_make_the_ddl(postgres: Database) -> None:
    declared = {"price": "decimal(12,2)", "at": "timestamptz", "doc": "json"}
    PostgresLoader(postgres.url).load(
        make_job(postgres.table("typed"), _typed_table(), declared=declared)
    )
    with postgres.engine.connect() as conn:
        types = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = 'typed'"
                ),
                {"s": postgres.schema},
            ).all()
        )
    assert types["price"] == "numeric" and types["doc"] == "jsonb"
    assert types["at"] == "timestamp with time zone" and types["note"] == "text"


def test_postgres_upsert_of_the_same_rows_changes_nothing(postgres: Database) -> None:
    loader = PostgresLoader(postgres.url)
    declared = {"price": "decimal(12,2)", "at": "timestamptz", "doc": "json"}
    table = postgres.table("typed")
    loader.load(make_job(table, _typed_table(), declared=declared, mode="upsert", keys=["id"]))
    again = loader.load(
        make_job(table, _typed_table(), declared=declared, mode="upsert", keys=["id"], run_id="r2")
    )
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert postgres.rows(table)[1][7] is None and postgres.rows(table)[0][7] == ""


def test_a_value_that_does_not_fit_names_the_column(database: Database) -> None:
    if database.url.get_backend_name() == "sqlite":
        pytest.skip("SQLite stores any integer in any column")
    loader_for(database.url).load(
        make_job(database.table("t"), {"n": [1]}, declared={"n": "integer"})
    )
    big = pa.table({"n": pa.array([2**40], pa.int64())})
    with pytest.raises(LoadError, match=r"\bn\b"):
        loader_for(database.url).load(make_job(database.table("t"), big, run_id="r2"))


def test_unreachable_server_is_transient_and_hides_the_password() -> None:
    pg = sa.make_url("postgresql+psycopg2://postgres:s3cret-pw@127.0.0.1:1/test")
    my = sa.make_url("mysql+pymysql://root:s3cret-pw@127.0.0.1:1/test")
    for loader in (PostgresLoader(pg), SqlLoader(my)):
        with pytest.raises(TargetUnavailable) as error:
            loader.load(make_job("t", {"id": [1]}))
        assert "s3cret" not in str(error.value) and "***" in str(error.value)


def test_upsert_without_a_unique_key_says_what_to_do(postgres: Database) -> None:
    table = postgres.table("nokey")
    loader_for(postgres.url).load(make_job(table, {"id": [1], "v": ["a"]}))
    with pytest.raises(LoadError, match="unique index on exactly the upsert keys"):
        loader_for(postgres.url).load(
            make_job(table, {"id": [1], "v": ["b"]}, mode="upsert", keys=["id"], run_id="r2")
        )


def test_sqlite_refuses_a_schema(sqlite: Database) -> None:
    with pytest.raises(LoadError, match="SQLite has no schemas"):
        loader_for(sqlite.url).load(make_job("main.t", {"id": [1]}))


def test_registry_picks_by_dialect(sqlite: Database, postgres: Database) -> None:
    assert isinstance(loader_for(postgres.url), PostgresLoader)
    assert isinstance(loader_for(sqlite.url), SqliteTarget)
    assert isinstance(loader_for(sqlite.url.update_query_dict({"timeout": "5"})), SqlLoader)
