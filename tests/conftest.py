"""Shared fixtures: real databases (a unique schema per test, dropped after), the `dagsmith`
command, and the markers a test gets from the fixtures it uses."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest
import sqlalchemy as sa

from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats

if TYPE_CHECKING:
    import pexpect

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


_MARKED_BY = {
    "postgres": "postgres",
    "mariadb": "mariadb",
    "redis": "redis",
    "airflow_db": "airflow",
    "dagsmith": "cli",
    "terminal": "pty",
    "json_server": "node",  # tests/sources_rest/conftest.py
    "kafka": "kafka",  # tests/sources_kafka/conftest.py, as is `durable_kafka`
    "durable_kafka": "kafka",
    "promtool": "prometheus",  # tests/deploy/conftest.py, as is `servers`
    "servers": "prometheus",
    "browser": "browser",  # tests/report/conftest.py: Debian's Chromium
}
"""The marker a test gets from each fixture it uses (directly, through another fixture, or as
a parameter of one such as `database`). `make test-fast` leaves out all of these, and
hypothesis's own `hypothesis` marker, which it gives every `@given` test."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with what it needs, from the fixtures it uses."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            used |= {str(value) for value in callspec.params.values()}
        for marker in sorted({_MARKED_BY[name] for name in used & _MARKED_BY.keys()}):
            item.add_marker(marker)


DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))


class Cli:
    """The `dagsmith` command as a user runs it: each call is a process of its own.

    A process costs one to three seconds (the interpreter, then Airflow or LangChain): tests
    get it from the `dagsmith` fixture, which marks them `cli`, and `make test-fast` skips them.
    """

    path = DAGSMITH

    def __call__(
        self, *args: str, cwd: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`dagsmith ARGS` in `cwd`, with `env` over this process's environment."""
        return subprocess.run(
            [DAGSMITH, *args],
            cwd=cwd,
            env={**os.environ, **(env or {}), "COLUMNS": "200"},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="session")
def dagsmith() -> Cli:
    """`dagsmith(*args, cwd=..., env=..., stdin=...)`: the command in a process of its own."""
    return Cli()


class Terminal(Protocol):
    """`dagsmith ARGS` in a pseudo-terminal, `env` over this process's environment."""

    def __call__(
        self, *args: str, cwd: Path, env: Mapping[str, str] | None = None
    ) -> pexpect.spawn: ...


@pytest.fixture
def terminal(dagsmith: Cli) -> Terminal:
    """`terminal(*args, cwd=..., env=...)`: `dagsmith ARGS` in a pseudo-terminal (pexpect), for
    what only a terminal shows: prompts, key bindings, Ctrl-C."""
    import pexpect

    def spawn(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> pexpect.spawn:
        environment = {**os.environ, **(env or {})}
        return pexpect.spawn(
            dagsmith.path, list(args), cwd=str(cwd), env=environment, encoding="utf-8", timeout=90
        )

    return spawn


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
    with postgres_schema() as db:
        yield db


@contextmanager
def postgres_schema() -> Iterator[Database]:
    """A fresh schema in the real PostgreSQL, dropped on leaving (for fixtures of any scope)."""
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
