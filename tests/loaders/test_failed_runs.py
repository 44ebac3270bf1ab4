"""A run that fails at any phase leaves the catalog as it found it; the corrected rerun loads.

Phases: the source fails mid-stream, the quality gate (`before_commit`) refuses, the merge
fails on a value the database refuses. PostgreSQL and SQLite undo the DDL with the
transaction; MariaDB drops the tables the run created.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import DagsmithError, RejectLimitExceeded, SourceError
from connectors.loaders import loader_for
from connectors.loaders.base import LoadJob
from tests.conftest import Database
from tests.loaders.conftest import make_job

GOOD = {"id": [1, 2, 3], "doc": ['{"a": 1}', '{"b": [2]}', "{}"]}


def catalog(db: Database) -> set[tuple[str, ...]]:
    """Every schema and table dagsmith could have made, as the database lists them."""
    with db.engine.connect() as conn:
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT n.nspname, coalesce(c.relname, '') FROM pg_namespace n "
                "LEFT JOIN pg_class c ON c.relnamespace = n.oid "
                "WHERE n.nspname LIKE %(s)s",
                {"s": f"{db.schema}%"},
            )
        elif dialect == "mysql":
            rows = conn.exec_driver_sql("SHOW TABLES")
        else:
            rows = conn.exec_driver_sql("SELECT type, name FROM sqlite_master")
        return {tuple(r) for r in rows}


def failing_source(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    yield batch
    raise SourceError("data/orders.csv, line 3: the file ends in the middle of a row")


def refuse() -> None:
    raise RejectLimitExceeded("2 of 3 rows rejected; nothing was loaded")


def job(db: Database, table: str, phase: str, run_id: str) -> LoadJob:
    """An upsert of a json column that fails at `phase` (or succeeds: `phase` = "none")."""
    data: dict[str, list[Any]] = dict(GOOD)
    if phase == "merge":
        data = {"id": [1, 2], "doc": ['{"a": 1}', "{not json"]}
    made = make_job(
        table,
        data,
        mode="upsert",
        keys=["id"],
        declared={"id": "bigint", "doc": "json"},
        run_id=run_id,
        before_commit=refuse if phase == "gate" else lambda: None,
    )
    if phase == "source":
        made.batches = failing_source(next(made.batches))
    return made


@pytest.mark.parametrize("phase", ["source", "gate", "merge"])
def test_a_failed_run_leaves_the_catalog_as_it_was(database: Database, phase: str) -> None:
    dialect = database.engine.dialect.name
    if phase == "merge" and dialect == "sqlite":
        pytest.skip("SQLite stores any text in a json column: nothing fails at the merge")
    if dialect == "mysql":
        # MariaDB commits DDL: its bookkeeping tables, shared by every stream, stay once made.
        loader_for(database.url).load(job(database, database.table("other"), "none", "r0"))
    before = catalog(database)
    with pytest.raises(DagsmithError):
        loader_for(database.url).load(job(database, database.table("orders"), phase, "r1"))
    assert catalog(database) == before
    # The corrected rerun creates the tables afresh and loads (no stale table in the way).
    result = loader_for(database.url).load(job(database, database.table("orders"), "none", "r1"))
    assert result.rows_loaded == 3
    assert [r[0] for r in database.rows(database.table("orders"))] == [1, 2, 3]


@pytest.mark.postgres
def test_a_schema_made_by_a_failed_run_is_gone(postgres: Database) -> None:
    new_schema = f"{postgres.schema}_new"
    before = catalog(postgres)
    with pytest.raises(RejectLimitExceeded):
        loader_for(postgres.url).load(job(postgres, f"{new_schema}.orders", "gate", "r1"))
    assert catalog(postgres) == before
    loader_for(postgres.url).load(job(postgres, f"{new_schema}.orders", "none", "r1"))
    with postgres.engine.begin() as conn:
        count = conn.exec_driver_sql(f"SELECT count(*) FROM {new_schema}.orders").scalar()
        conn.execute(sa.schema.DropSchema(new_schema, cascade=True))
    assert count == 3
