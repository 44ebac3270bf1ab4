"""A load that waits for a lock says who holds it, then loads once it is free (real
PostgreSQL, a real lock held by another session; a real DuckDB file held by another
process)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import psycopg2
import pytest
import sqlalchemy as sa

from connectors.loaders import loader_for, waits
from connectors.loaders.postgres_driver import PgSession
from tests.conftest import Database
from tests.loaders.conftest import make_job


def test_a_load_blocked_by_a_lock_names_its_holder_then_loads(
    postgres: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(waits, "FIRST", 0.3)
    monkeypatch.setattr(waits, "EVERY", 0.3)
    table = postgres.table("orders")
    loader_for(postgres.url).load(make_job(table, {"id": [1]}, run_id="first"))
    args = postgres.url.translate_connect_args(username="user", database="dbname")
    holder = psycopg2.connect(**args, application_name="nightly-maintenance")
    holder.cursor().execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    done: list[object] = []
    job = make_job(table, {"id": [2, 3]}, run_id="second")
    with caplog.at_level(logging.WARNING, logger="dagsmith"):
        loading = threading.Thread(target=lambda: done.append(loader_for(postgres.url).load(job)))
        loading.start()
        loading.join(1.5)
        assert not done  # still waiting
        holder.rollback()
        holder.close()
        loading.join(30)
    said = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert said
    assert all("held by process" in line for line in said)
    assert all("application 'nightly-maintenance'" in line for line in said)
    assert "LOCK TABLE" not in caplog.text  # never the holder's statement
    assert [r[0] for r in postgres.rows(table)] == [1, 2, 3]


def test_a_load_that_never_waits_opens_no_watch_connection(
    postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    class Counted(PgSession):
        def __init__(self, url: sa.URL, where: str) -> None:
            opened.append(str(url.query.get("application_name", "")))
            super().__init__(url, where)

    monkeypatch.setattr("connectors.loaders.postgres.PgSession", Counted)
    loader_for(postgres.url).load(make_job(postgres.table("quick"), {"id": [1]}))
    assert opened and "dagsmith-lock-watch" not in opened


def test_a_duckdb_load_waiting_for_the_file_names_the_process_holding_it(
    duckdb: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(waits, "FIRST", 0.3)
    monkeypatch.setattr(waits, "EVERY", 0.3)
    path = str(duckdb.url.database)
    script = (
        f"import duckdb, sys; c = duckdb.connect({path!r}); "
        "print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    done: list[object] = []
    job = make_job(duckdb.table("orders"), {"id": [1, 2]})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with caplog.at_level(logging.WARNING, logger="dagsmith"):
            loading = threading.Thread(target=lambda: done.append(loader_for(duckdb.url).load(job)))
            loading.start()
            loading.join(1.5)
            assert not done  # still waiting
            holder.communicate("")
            loading.join(30)
    finally:
        if holder.poll() is None:
            holder.kill()
    said = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    assert said and all(f"held by process {holder.pid} (" in line for line in said)
    assert duckdb.rows(duckdb.table("orders")) == [(1,), (2,)]
