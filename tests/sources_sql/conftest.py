"""Helpers for SQL source tests: a connection set through the environment, a reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.sources import read
from connectors.spec.sql import SqlSource
from tests.conftest import Database
from tests.conftest import read_context as make_ctx


def use(monkeypatch: pytest.MonkeyPatch, url: sa.URL) -> None:
    """Point connection `src` at a URL, the way a user does: through the environment."""
    monkeypatch.setenv("AIRFLOW_CONN_SRC", url.render_as_string(hide_password=False))


def run(db: Database, sql: str) -> None:
    """Run setup statements (separated by ';' at line ends) in the test's database."""
    with db.engine.begin() as conn:
        for statement in sql.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement)


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    """Read a `kind: sql` source of connection `src` on a database; return its batches."""

    def read_source(db: Database, batch_rows: int = 1000, **fields: Any) -> list[pa.RecordBatch]:
        use(monkeypatch, db.url)
        spec = SqlSource(kind="sql", connection="src", **fields)
        return list(read(spec, make_ctx(tmp_path, batch_rows)))

    return read_source


@pytest.fixture(params=["postgres", "mariadb", "sqlite"])
def database(request: pytest.FixtureRequest) -> Database:
    """Each real database a `sql` source reads (DuckDB is not one yet: docs/duckdb.md)."""
    db: Database = request.getfixturevalue(request.param)
    return db
