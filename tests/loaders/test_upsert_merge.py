"""PostgreSQL's two upsert statements: MERGE (15+) and `INSERT ... ON CONFLICT` leave the same
rows and counts, and MERGE meets another writer's insert or delete as ON CONFLICT does (real
PostgreSQL, real sessions on threads)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import LoadError
from connectors.loaders.base import LoadResult
from connectors.loaders.postgres import PostgresLoader
from tests.conftest import Database
from tests.loaders.conftest import make_job
from tests.loaders.test_concurrent_writers import other_writer, seeded

pytestmark = pytest.mark.postgres

SEED = "(1, 'a', 1.00), (2, 'b', NULL), (3, 'c', 3.00), (4, 'd', 4.00)"
UPSERT = {
    "id": [1, 2, 3, 4, 150, 5],
    "name": ["a", "b", "c", "D", "n", "e"],
    "amount": [Decimal("1.00"), None, None, Decimal("4.00"), Decimal("1.50"), Decimal("5")],
}
AFTER = [
    (1, "a", Decimal("1.00")),
    (2, "b", None),
    (3, "c", None),
    (4, "D", Decimal("4.00")),
    (5, "e", Decimal("5.00")),
    (150, "n", Decimal("1.50")),
]
# Where MERGE cannot run, the load uses ON CONFLICT: a table with a rule (ON CONFLICT refuses
# only INSERT and UPDATE rules), or a server not keeping the row counters MERGE is counted by.
STATEMENTS = {
    "MERGE": ("", {}),
    "ON CONFLICT, a rule": ("CREATE RULE kept AS ON DELETE TO {t} DO INSTEAD NOTHING", {}),
    "ON CONFLICT, no counters": ("", {"options": "-c track_counts=off"}),
}


def _target(db: Database, partitioned: bool, extra: str) -> str:
    """The target, seeded, with a trigger that counts the rows BEFORE INSERT saw."""
    table = db.table("target")
    parts = " PARTITION BY RANGE (id)" if partitioned else ""
    with db.engine.begin() as conn:
        run = conn.exec_driver_sql
        run(f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text, amount numeric(12,2)){parts}")
        if partitioned:
            run(f"CREATE TABLE {table}_low PARTITION OF {table} FOR VALUES FROM (0) TO (100)")
            run(f"CREATE TABLE {table}_high PARTITION OF {table} FOR VALUES FROM (100) TO (200)")
        run(f"INSERT INTO {table} VALUES {SEED}")
        run(f"CREATE TABLE {db.table('fired')} (id bigint)")
        run(
            f"CREATE FUNCTION {db.schema}.fired() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$BEGIN INSERT INTO {db.table('fired')} VALUES (NEW.id); RETURN NEW; END$$"
        )
        run(
            f"CREATE TRIGGER fired BEFORE INSERT ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {db.schema}.fired()"
        )
        if extra:
            run(extra.format(t=table))
    return table


@pytest.mark.parametrize("partitioned", [False, True], ids=["table", "partitioned"])
@pytest.mark.parametrize("statement", list(STATEMENTS))
def test_both_statements_leave_the_same_rows_and_counts(
    postgres: Database, statement: str, partitioned: bool
) -> None:
    extra, options = STATEMENTS[statement]
    table = _target(postgres, partitioned, extra)
    loader = PostgresLoader(postgres.url.update_query_dict(options))
    job = make_job(table, UPSERT, mode="upsert", keys=["id"])
    if partitioned and "no counters" in statement:
        with pytest.raises(LoadError, match=r"partitioned.*track_counts"):
            loader.load(job)
        return
    result = loader.load(job)
    assert postgres.rows(table) == AFTER
    assert (result.inserted, result.updated, result.unchanged) == (2, 2, 2)
    # ON CONFLICT tries to insert every row first; MERGE inserts only the new keys.
    fired = len(postgres.rows(postgres.table("fired")))
    assert fired == (2 if statement == "MERGE" else len(UPSERT["id"]))


def _load(db: Database, table: str, options: dict[str, Any]) -> LoadResult:
    mine = {"id": [1, 3], "writer": ["d", "d"], "value": [1, 3]}
    job = make_job(table, mine, mode="upsert", keys=["id"])
    return PostgresLoader(db.url.update_query_dict(options)).load(job)


@pytest.mark.parametrize("statement", ["MERGE", "ON CONFLICT, no counters"])
def test_a_key_another_writer_inserts_meanwhile_is_updated(
    postgres: Database, statement: str, caplog: pytest.LogCaptureFixture
) -> None:
    """MERGE cannot see a row inserted after it started and fails on its key; the chunk is
    merged again with ON CONFLICT, which updates it."""
    caplog.set_level(logging.INFO, logger="dagsmith")
    table = seeded(postgres)
    with other_writer(postgres, f"INSERT INTO {table} VALUES (3, 'e', 0)"):
        result = _load(postgres, table, STATEMENTS[statement][1])
    assert postgres.rows(table) == [(1, "d", 1), (2, "x", 0), (3, "d", 3)]
    assert (result.inserted, result.updated) == (0, 2)
    assert ("merging again with ON CONFLICT" in caplog.text) == (statement == "MERGE")


@pytest.mark.parametrize("statement", ["MERGE", "ON CONFLICT, no counters"])
def test_a_row_another_writer_deletes_meanwhile_is_inserted_again(
    postgres: Database, statement: str
) -> None:
    table = seeded(postgres)
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (3, 'x', 0)")
    with other_writer(postgres, f"DELETE FROM {table} WHERE id = 3"):
        result = _load(postgres, table, STATEMENTS[statement][1])
    assert postgres.rows(table) == [(1, "d", 1), (2, "x", 0), (3, "d", 3)]
    assert (result.inserted, result.updated) == (1, 1)


def test_a_row_breaking_another_unique_index_fails_the_load_and_changes_nothing(
    postgres: Database,
) -> None:
    table = seeded(postgres)
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE {table} SET value = 1 WHERE id = 1")
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX one_writer_value ON {table} (writer, value)")
    mine = {"id": [1, 3], "writer": ["x", "x"], "value": [5, 0]}  # 3 takes row 2's (x, 0)
    with pytest.raises(LoadError, match="one_writer_value"):
        PostgresLoader(postgres.url).load(make_job(table, mine, mode="upsert", keys=["id"]))
    assert postgres.rows(table) == [(1, "x", 1), (2, "x", 0)]
