"""Permanent target errors fail without a retry and say so; transient ones ask for a retry.

Per database: an unknown database, a failed authentication, a missing right (permanent),
an unreachable server or a locked file (transient). Roles are made per test, dropped after.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import loader_for
from tests.conftest import MARIADB_URL, PG_URL, Database
from tests.loaders.conftest import make_job

DATA = {"id": [1, 2], "name": ["a", "b"]}


def load(url: sa.URL, table: str = "orders") -> None:
    loader_for(url).load(make_job(table, DATA))


@pytest.fixture
def pg_role(postgres: Database) -> Iterator[str]:
    """A login role with no right on the test's schema, dropped after."""
    role = f"r_{uuid.uuid4().hex[:10]}"
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    yield role
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {role}")
        conn.exec_driver_sql(f"DROP ROLE {role}")


@pytest.mark.postgres
@pytest.mark.parametrize("driver", ["postgresql+psycopg2", "postgresql"])
def test_postgres_permanent_errors_are_not_retried(
    postgres: Database, pg_role: str, driver: str
) -> None:
    base = sa.make_url(PG_URL).set(drivername=driver)
    cases = {
        "database does not exist": base.set(database=f"nodb_{uuid.uuid4().hex[:8]}"),
        "authentication failed": base.set(username=f"nobody_{uuid.uuid4().hex[:8]}"),
        "permission denied": base.set(username=pg_role),
    }
    for words, url in cases.items():
        with pytest.raises(LoadError) as raised:
            load(url, postgres.table("orders"))
        assert words in str(raised.value.hint), raised.value
        assert "retrying cannot fix this" in str(raised.value)


@pytest.mark.postgres
def test_postgres_unreachable_is_transient() -> None:
    with pytest.raises(TargetUnavailable, match="retry later"):
        load(sa.make_url(PG_URL).set(port=1))


@pytest.mark.mariadb
def test_mariadb_permanent_and_transient_errors(mariadb: Database) -> None:
    base = sa.make_url(MARIADB_URL)
    with pytest.raises(LoadError, match="database does not exist"):
        load(base.set(database=f"nodb_{uuid.uuid4().hex[:8]}"))
    with pytest.raises(LoadError, match="authentication failed"):
        load(mariadb.url.set(username=f"nobody_{uuid.uuid4().hex[:8]}"))
    with pytest.raises(TargetUnavailable, match="retry later"):
        load(base.set(port=1))


def test_sqlite_missing_folder_is_permanent_and_a_locked_file_transient(
    sqlite: Database, tmp_path: object
) -> None:
    with pytest.raises(LoadError, match=r"database does not exist.*retrying cannot fix"):
        load(sa.make_url(f"sqlite:///{tmp_path}/no/such/folder/x.db"))
    holder = sqlite3.connect(str(sqlite.url.database), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TargetUnavailable, match="locked"):
            load(sqlite.url.update_query_dict({"timeout": "0.2"}))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    load(sqlite.url)  # once the lock is gone, the retry loads
    assert len(sqlite.rows("orders")) == 2
