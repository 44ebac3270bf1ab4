"""Shared fixtures: real databases, a unique schema per test, dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats

PG_URL = os.environ.get("DAGSMITH_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
MARIADB_URL = os.environ.get("DAGSMITH_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


@dataclass(frozen=True)
class Database:
    """A scratch place in a real database: `url` reaches it, `schema` is ours alone."""

    url: sa.URL
    schema: str | None
    engine: sa.Engine

    def table(self, name: str) -> str:
        """`schema.name` (or `name` where there is no schema)."""
        return f"{self.schema}.{name}" if self.schema else name

    def rows(self, table: str, order_by: str = "1") -> list[tuple[object, ...]]:
        """Every row of a table of ours, ordered."""
        with self.engine.connect() as conn:
            quoted = ".".join(
                self.engine.dialect.identifier_preparer.quote(part) for part in table.split(".")
            )
            return [
                tuple(r)
                for r in conn.execute(sa.text(f"SELECT * FROM {quoted} ORDER BY {order_by}"))
            ]


_SERVICES = ("postgres", "mariadb", "redis")
"""Markers a test gets from the fixtures it uses (directly, through another fixture, or as a
parameter of one such as `database`): `make test-fast` leaves these out."""
_AIRFLOW_FIXTURES = {"airflow_db"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the services and the Airflow it needs, from what it uses."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            used |= {str(value) for value in callspec.params.values()}
        for service in _SERVICES:
            if service in used:
                item.add_marker(service)
        if used & _AIRFLOW_FIXTURES:
            item.add_marker("airflow")


def read_context(folder: Path, batch_rows: int = 1000) -> ReadContext:
    """A source read context whose paths and connections start at `folder`."""
    run = RunInfo("run-1", "p", "s", datetime.now(UTC))
    return ReadContext(
        base_dir=folder,
        batch_rows=batch_rows,
        rejects=Rejects(run, StreamStats()),
        project_dir=folder,
    )


def _unique() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def postgres() -> Iterator[Database]:
    """A fresh schema in the real PostgreSQL, dropped after the test."""
    url = sa.make_url(PG_URL)
    engine = sa.create_engine(url)
    schema = _unique()
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database(url, schema, engine)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def mariadb() -> Iterator[Database]:
    """A fresh database in the real MariaDB (MySQL's schema), dropped after the test."""
    base = sa.make_url(MARIADB_URL)
    admin = sa.create_engine(base)
    name = _unique()
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = base.set(database=name)
    engine = sa.create_engine(url)
    try:
        yield Database(url, None, engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE `{name}`"))
        admin.dispose()


@pytest.fixture
def sqlite(tmp_path: object) -> Iterator[Database]:
    """A SQLite file in the test's temporary folder."""
    url = sa.make_url(f"sqlite:///{tmp_path}/target.db")
    engine = sa.create_engine(url)
    yield Database(url, None, engine)
    engine.dispose()


@pytest.fixture
def duckdb(tmp_path: Path) -> Iterator[Database]:
    """A DuckDB file in the test's temporary folder, loaded into a schema (`schema.table`).

    NullPool: an open connection would hold the file's lock against a loader in a child process.
    """
    url = sa.make_url(f"duckdb:///{tmp_path}/target.duckdb")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield Database(url, _unique(), engine)
    engine.dispose()


@pytest.fixture(params=["postgres", "mariadb", "sqlite", "duckdb"])
def database(request: pytest.FixtureRequest) -> Database:
    """Each real database in turn."""
    db: Database = request.getfixturevalue(request.param)
    return db
