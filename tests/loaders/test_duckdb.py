"""DuckDB as a target: native types, transactional DDL, its naming rule, its file lock.

The loader contract (modes, rejects, run records, state, crash) runs on DuckDB through the
`database` fixture in tests/loaders; these are the facts only DuckDB has.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb as duckdb_driver
import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.connections import to_sqlalchemy_url
from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import duckdb as duckdb_loader
from connectors.loaders import loader_for
from connectors.loaders.state import read_state
from tests.conftest import Database
from tests.loaders.conftest import make_job


def _open(db: Database) -> duckdb_driver.DuckDBPyConnection:
    return duckdb_driver.connect(str(db.url.database), read_only=True)


def _nested() -> pa.Table:
    paris = ZoneInfo("Europe/Paris")
    return pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "amount": pa.array([Decimal("12345678.91"), Decimal("-0.01")], pa.decimal128(12, 2)),
            "at": pa.array(
                [dt.datetime(2024, 7, 1, 8, 30, tzinfo=paris), dt.datetime(2024, 1, 1)],
                pa.timestamp("us", tz="Europe/Paris"),
            ),
            "doc": pa.array([{"tags": ["a", "b"], "address": {"city": "Lyon", "zip": None}}, None]),
        }
    )


def test_declared_types_are_native_and_nested_json_is_queryable(duckdb: Database) -> None:
    table = duckdb.table("orders")
    declared = {"amount": "decimal(12,2)", "at": "timestamptz", "doc": "json"}
    loader_for(duckdb.url).load(make_job(table, _nested(), declared=declared))

    with _open(duckdb) as con:
        types = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
        )
        rows = con.execute(
            "SELECT amount, epoch_us(\"at\"), doc->>'$.address.city', "
            f"json_array_length(doc, '$.tags') FROM {table} ORDER BY id"
        ).fetchall()
    assert types == {
        "id": "BIGINT",
        "amount": "DECIMAL(12,2)",
        "at": "TIMESTAMP WITH TIME ZONE",
        "doc": "JSON",
    }
    summer = dt.datetime(2024, 7, 1, 6, 30, tzinfo=dt.UTC)  # 08:30 in Paris is 06:30 UTC
    assert rows[0] == (Decimal("12345678.91"), int(summer.timestamp() * 1e6), "Lyon", 2)
    assert rows[1][0] == Decimal("-0.01") and rows[1][2:] == (None, None)


def test_a_failed_first_load_leaves_no_table_behind(duckdb: Database) -> None:
    def refuse() -> None:
        raise LoadError("too many rejects")

    job = make_job(duckdb.table("orders"), {"id": [1, 2]}, before_commit=refuse)
    with pytest.raises(LoadError, match="too many rejects"):
        loader_for(duckdb.url).load(job)

    with _open(duckdb) as con:
        assert con.execute("SELECT table_name FROM duckdb_tables()").fetchall() == []
        assert (
            con.execute(
                "SELECT schema_name FROM duckdb_schemas() WHERE schema_name = ?", [duckdb.schema]
            ).fetchall()
            == []
        )


def test_names_that_differ_only_in_case_are_refused(duckdb: Database) -> None:
    job = make_job(duckdb.table("orders"), {"Id": [1], "id": [2]})
    with pytest.raises(LoadError, match="'Id' and 'id' differ only in case"):
        loader_for(duckdb.url).load(job)


def test_an_existing_table_in_other_case_still_matches(duckdb: Database) -> None:
    with duckdb_driver.connect(str(duckdb.url.database)) as con:
        con.execute(
            f'CREATE SCHEMA {duckdb.schema}; CREATE TABLE {duckdb.schema}.orders ("ID" BIGINT)'
        )
    loader_for(duckdb.url).load(make_job(duckdb.table("orders"), {"id": [7]}))
    assert duckdb.rows(duckdb.table("orders")) == [(7,)]


def test_a_file_held_by_another_process_is_waited_for_then_transient(
    duckdb: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(duckdb.url.database)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({path!r}); "
            "print('held', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(duckdb_loader, "LOCK_WAIT", 0.5)
        with pytest.raises(TargetUnavailable, match="lock") as error:
            loader_for(duckdb.url).load(make_job(duckdb.table("orders"), {"id": [1]}))
        assert error.value.hint is not None and "duckdb shell" in error.value.hint
    finally:
        holder.communicate("")
    result = loader_for(duckdb.url).load(make_job(duckdb.table("orders"), {"id": [1]}))
    assert result.rows_loaded == 1


def test_a_duckdb_connection_uri_is_a_target(tmp_path: Path) -> None:
    url = to_sqlalchemy_url(f"duckdb:///{tmp_path}/lake.duckdb", "lake")
    assert url.database == f"{tmp_path}/lake.duckdb"
    assert isinstance(loader_for(url), duckdb_loader.DuckDBLoader)
    as_json = json.dumps({"conn_type": "duckdb", "host": f"{tmp_path}/lake.duckdb"})
    assert to_sqlalchemy_url(as_json, "lake") == sa.URL.create("duckdb", database=str(url.database))
    loader_for(url).load(make_job("raw.events", {"id": [1, 2]}))
    with duckdb_driver.connect(str(url.database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.events").fetchall() == [(2,)]


def test_the_watermark_written_with_a_load_is_read_back(duckdb: Database) -> None:
    table = duckdb.table("orders")
    assert read_state(duckdb.url, table, "pipe", "orders") == {}
    loader_for(duckdb.url).load(make_job(table, {"id": [1]}, state={"cursor": "2024-01-02"}))
    assert read_state(duckdb.url, table, "pipe", "orders") == {"cursor": "2024-01-02"}
