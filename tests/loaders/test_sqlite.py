"""SQLite through sqlite3 alone stores what SQLAlchemy's SQLite types stored: the same column
types, the same values (storage class and text), the same bookkeeping tables. The reference
is computed here by the generic SQLAlchemy loader, which still serves SQLite URLs with query
options; nothing expected is written by hand."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import loader_for
from connectors.loaders.base import FAILED_RUNS_TABLE, RUNS_TABLE, STATE_TABLE, LoadResult
from connectors.loaders.failed import record_failure
from connectors.loaders.sql import SqlLoader
from connectors.loaders.sqlite import SqliteTarget
from connectors.loaders.state import read_state
from tests.loaders.conftest import make_job

DECLARED = {
    "id": "integer",
    "name": "string",
    "big": "bigint",
    "ratio": "float",
    "paid": "boolean",
    "day": "date",
    "at": "timestamp",
    "at_zone": "timestamptz",
    "doc": "json",
    "amount": "decimal(12,2)",
}
ZONE = datetime(2024, 3, 5, 13, 7, 9, 120000, tzinfo=UTC)
FAILED = {
    "run_id": "r",
    "pipeline": "pipe",
    "stream": "orders",
    "target_table": "orders",
    "mode": "append",
    "started_at": ZONE,
    "finished_at": ZONE,
    "rows_read": 1,
    "rows_rejected": 0,
    "rows_filtered": 0,
    "watermark_before": None,
    "error": "boom",
}
"""A failed run's record, as `failed.failure_record` makes one."""


def _rows(shift: int = 0) -> pa.Table:
    """Every spec type, with NULLs, a whole decimal and a float that reads as an integer."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "name": ["a", None, 'ü\'s "q"'],
            "big": pa.array([2**62, None, -5 + shift], pa.int64()),
            "ratio": [1.5, None, 3.0],
            "paid": [True, None, False],
            "day": pa.array([date(2024, 1, 2), None, date(999, 12, 31)], pa.date32()),
            "at": pa.array(
                [datetime(2024, 1, 2, 3, 4, 5), None, datetime(2024, 1, 2, 3, 4, 5, 6)],
                pa.timestamp("us"),
            ),
            "at_zone": pa.array([ZONE, None, ZONE], pa.timestamp("ns", tz="Europe/Amsterdam")),
            "doc": pa.array(['{"a": [1, 2]}', None, "{}"], pa.json_(pa.string())),
            "amount": pa.array([Decimal("12.50"), None, Decimal(3 + shift)], pa.decimal128(12, 2)),
        }
    )


def _both(tmp_path: Path, **job: Any) -> tuple[Path, Path, LoadResult, LoadResult]:
    """Load the same job into two files: through sqlite3 alone and through SQLAlchemy."""
    native, reference = tmp_path / "native.db", tmp_path / "reference.db"
    data = job.pop("data", None) or _rows()
    done = []
    for path, loader in (
        (native, loader_for(f"sqlite:///{native}")),
        (reference, SqlLoader(sa.make_url(f"sqlite:///{reference}"))),
    ):
        done.append(loader.load(make_job("orders", data, declared=DECLARED, **job)))
        assert path.exists()
    return native, reference, done[0], done[1]


def _stored(path: Path, table: str) -> list[tuple[Any, ...]]:
    """Each value as SQLite holds it: storage class and text, row by row."""
    with sqlite3.connect(path) as db:
        names = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
        shown = ", ".join(f'typeof("{n}"), CAST("{n}" AS TEXT)' for n in names)
        return db.execute(f'SELECT {shown} FROM "{table}" ORDER BY rowid').fetchall()


def _declared(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's columns as the catalogue declares them."""
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: db.execute(f'PRAGMA table_info("{n}")').fetchall() for n in sorted(names)}


def test_sqlite_urls_without_options_load_through_sqlite3_alone(tmp_path: Path) -> None:
    assert isinstance(loader_for(f"sqlite:///{tmp_path}/x.db"), SqliteTarget)
    assert isinstance(loader_for(sa.make_url(f"sqlite:///{tmp_path}/x.db")), SqliteTarget)
    assert isinstance(loader_for(f"sqlite:///{tmp_path}/x.db?timeout=30"), SqlLoader)


@pytest.mark.parametrize(
    "job",
    [
        {},
        {"mode": "upsert", "keys": ["id"]},
        {"mode": "replace", "state": {"cursor": "2024-01-02"}},
    ],
    ids=["append", "upsert", "replace with state"],
)
def test_every_type_is_stored_as_sqlalchemy_stored_it(tmp_path: Path, job: dict[str, Any]) -> None:
    native, reference, ours, theirs = _both(tmp_path, **job)
    assert _declared(native) == _declared(reference)
    assert _stored(native, "orders") == _stored(reference, "orders")
    assert ours == theirs
    state = [STATE_TABLE] if "state" in job else []
    for table in (RUNS_TABLE, *state):
        ours_rows, theirs_rows = _stored(native, table), _stored(reference, table)
        assert [len(r) for r in ours_rows] == [len(r) for r in theirs_rows]
        # The finish time differs between the two loads; its form does not.
        assert {r[0::2] for r in ours_rows} == {r[0::2] for r in theirs_rows}
    with sqlite3.connect(native) as db:
        assert db.execute('SELECT started_at FROM "_dagsmith_runs"').fetchone() == (
            "2024-05-01 06:00:00.000000",
        )


def test_sqlalchemy_reads_back_the_same_values(tmp_path: Path) -> None:
    native, reference, _, _ = _both(tmp_path)
    read = []
    for path in (native, reference):
        engine = sa.create_engine(f"sqlite:///{path}")
        table = sa.Table("orders", sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            read.append(conn.execute(sa.select(table).order_by(table.c.id)).all())
        engine.dispose()
    assert read[0] == read[1]
    assert read[0][0].at_zone == datetime(2024, 3, 5, 13, 7, 9, 120000)


def test_an_upsert_into_a_table_sqlalchemy_made_rewrites_only_what_differs(
    tmp_path: Path,
) -> None:
    """A table an earlier version created keeps loading; counts match the generic loader's."""
    native, reference, _, _ = _both(tmp_path, mode="upsert", keys=["id"])
    again = [
        loader.load(make_job("orders", _rows(shift=1), mode="upsert", keys=["id"], run_id="2"))
        for loader in (
            loader_for(f"sqlite:///{reference}"),  # the table SQLAlchemy made, loaded natively
            SqlLoader(sa.make_url(f"sqlite:///{native}")),  # and the other way round
        )
    ]
    assert again[0] == again[1]
    assert (again[0].inserted, again[0].updated, again[0].unchanged) == (0, 1, 2)
    assert _stored(native, "orders") == _stored(reference, "orders")


def test_a_date_into_a_timestamp_column_is_stored_at_midnight_as_sqlalchemy_did(
    tmp_path: Path,
) -> None:
    for name in ("native.db", "reference.db"):
        with sqlite3.connect(tmp_path / name) as db:
            db.execute('CREATE TABLE orders (id INTEGER, "day" DATETIME)')
    data = pa.table({"id": [1], "day": pa.array([date(2024, 1, 2)], pa.date32())})
    native, reference, _, _ = _both(tmp_path, data=data)
    assert _stored(native, "orders") == _stored(reference, "orders")


def test_state_and_failed_runs_are_written_and_read_without_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    assert read_state(url, "orders", "pipe", "orders") == {}
    loader_for(url).load(make_job("orders", {"id": [1]}, state={"cursor": "7"}))
    assert read_state(url, "orders", "pipe", "orders") == {"cursor": "7"}
    assert read_state(sa.make_url(url), "orders", "pipe", "orders") == {"cursor": "7"}
    record_failure(url, FAILED)
    reference = f"sqlite:///{tmp_path}/reference.db"
    record_failure(f"{reference}?timeout=5", FAILED)
    assert _stored(tmp_path / "x.db", FAILED_RUNS_TABLE) == _stored(
        tmp_path / "reference.db", FAILED_RUNS_TABLE
    )
    assert (
        _declared(tmp_path / "x.db")[FAILED_RUNS_TABLE]
        == (_declared(tmp_path / "reference.db")[FAILED_RUNS_TABLE])
    )


def test_a_file_locked_by_another_writer_is_transient(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        waiting = SqliteTarget(str(path), "sqlite:///x.db")
        with pytest.raises(TargetUnavailable, match="database is locked"):
            waiting.load(make_job("orders", {"id": [1]}))
    finally:
        holder.close()
    assert SqliteTarget(str(path), "sqlite:///x.db").load(make_job("orders", {"id": [1]}))


def test_an_upsert_into_a_table_without_a_key_on_its_keys_names_them(tmp_path: Path) -> None:
    """The driver's `ON CONFLICT clause does not match` becomes what to do, nothing loaded."""
    path = tmp_path / "keyless.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER, name TEXT)")
    data = pa.table({"id": [1, 2], "name": ["a", "b"]})
    job = make_job("orders", data, mode="upsert", keys=["id"])
    with pytest.raises(LoadError, match=r"no primary key or unique index .* \(id\)") as caught:
        loader_for(f"sqlite:///{path}").load(job)
    assert "CREATE UNIQUE INDEX" in str(caught.value.hint)
    assert _stored(path, "orders") == []


@pytest.mark.parametrize("job", [{}, {"mode": "upsert", "keys": ["id"]}], ids=["append", "upsert"])
def test_dates_times_and_decimals_load_into_text_columns_as_their_text(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    """SQLite keeps dates as ISO 8601 text (its date functions read it): a TEXT column holds
    them, and a decimal digit for digit, on both paths."""
    for name in ("native.db", "reference.db"):
        with sqlite3.connect(tmp_path / name) as db:
            db.execute(
                'CREATE TABLE orders (id INTEGER PRIMARY KEY, "day" TEXT, "at" TEXT, '
                "at_zone VARCHAR(40), amount TEXT, paid BOOLEAN)"
            )
    data = _rows().select(["id", "day", "at", "at_zone", "amount", "paid"])
    native, reference, ours, theirs = _both(tmp_path, data=data, **job)
    assert ours == theirs
    stored = _stored(native, "orders")
    assert stored == _stored(reference, "orders")
    assert stored[0] == (
        *("integer", "1", "text", "2024-01-02", "text", "2024-01-02 03:04:05.000000"),
        *("text", "2024-03-05 13:07:09.120000", "text", "12.50", "integer", "1"),
    )
    assert stored[2][2:4] == ("text", "0999-12-31")
    assert stored[2][8:10] == ("text", "3.00")


def test_a_boolean_into_a_text_column_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER, paid TEXT)")
    data = pa.table({"id": [1], "paid": [True]})
    for loader in (loader_for(f"sqlite:///{path}"), SqlLoader(sa.make_url(f"sqlite:///{path}"))):
        with pytest.raises(LoadError, match="column 'paid' is TEXT in the table, boolean here"):
            loader.load(make_job("orders", data, declared={"paid": "boolean"}))


def test_a_failed_runs_record_waiting_for_a_held_file_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The record waits for the file's writer (sqlite3's 5 s, then more): said once, not a hang."""
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(6.0, holder.close).start()
    with caplog.at_level(logging.WARNING, logger="dagsmith"):
        record_failure(f"sqlite:///{path}", FAILED)
    said = [r.getMessage() for r in caplog.records if "held by another process" in r.getMessage()]
    assert said == [
        "orders: the target is held by another process; waiting up to 30 s to record the failed run"
    ]
    assert len(_stored(path, FAILED_RUNS_TABLE)) == 1
