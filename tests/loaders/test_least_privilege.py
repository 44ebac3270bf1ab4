"""A PostgreSQL role with rights on its schema and tables only (no CREATE on the database)
loads in every mode; pre-flight names a missing right before anything is read. The grants
are those docs/deploy.md lists. A role is made per test and dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from connectors.errors import LoadError
from connectors.loaders import loader_for
from connectors.loaders.preflight import preflight
from connectors.spec.models import Stream
from tests.conftest import Database
from tests.loaders.conftest import make_job

pytestmark = pytest.mark.postgres

MODES = [("append", []), ("replace", []), ("upsert", ["id"])]


@pytest.fixture
def role(postgres: Database) -> Iterator[tuple[str, sa.URL]]:
    """A login role with no right but CONNECT (and TEMPORARY, PUBLIC's by default)."""
    name = f"r_{uuid.uuid4().hex[:10]}"
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {postgres.schema} TO {name}")
    yield name, postgres.url.set(username=name)
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {name}")
        conn.exec_driver_sql(f"DROP ROLE {name}")


def stream(table: str, mode: str, keys: list[str]) -> Stream:
    return Stream.model_validate(
        {
            "name": "orders",
            "source": {"kind": "csv", "path": "orders.csv"},
            "transform": {"types": {"id": "bigint", "name": "string"}},
            "load": {"table": table, "mode": mode, "keys": keys},
        }
    )


def load_twice(
    db: Database, url: sa.URL, mode: str, keys: list[str], table: str | None = None
) -> None:
    """Pre-flight, then two loads (the second meets the tables the first made)."""
    table = table or db.table(f"orders_{mode}")
    preflight(url, stream(table, mode, keys))
    for run in ("r1", "r2"):
        job = make_job(table, {"id": [1, 2], "name": ["a", run]}, mode=mode, keys=keys, run_id=run)
        loader_for(url).load(job)
    expected = 4 if mode == "append" else 2
    assert len(db.rows(table)) == expected


@pytest.mark.parametrize(("mode", "keys"), MODES)
def test_a_role_that_may_create_in_its_schema_loads(
    postgres: Database, role: tuple[str, sa.URL], mode: str, keys: list[str]
) -> None:
    name, url = role
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT CREATE ON SCHEMA {postgres.schema} TO {name}")
        may = f"SELECT has_database_privilege('{name}', current_database(), 'CREATE')"
        assert conn.exec_driver_sql(may).scalar() is False
    load_twice(postgres, url, mode, keys)


@pytest.mark.parametrize(("mode", "keys"), MODES)
def test_a_role_with_table_rights_only_loads_into_tables_made_for_it(
    postgres: Database, role: tuple[str, sa.URL], mode: str, keys: list[str]
) -> None:
    name, url = role
    table = postgres.table(f"orders_{mode}")
    loader_for(postgres.url).load(
        make_job(table, {"id": [9], "name": ["seed"]}, mode=mode, keys=keys, run_id="seed")
    )
    rights = {"append": "INSERT", "replace": "INSERT, DELETE", "upsert": "SELECT, INSERT, UPDATE"}
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT {rights[mode]} ON {table} TO {name}")
        conn.exec_driver_sql(f"GRANT INSERT ON {table}__rejects TO {name}")
        conn.exec_driver_sql(
            f"GRANT SELECT, INSERT ON {postgres.table('_dagsmith_runs')} TO {name}"
        )
        conn.exec_driver_sql(f"DELETE FROM {table}")
    load_twice(postgres, url, mode, keys)


def test_preflight_names_each_missing_right(postgres: Database, role: tuple[str, sa.URL]) -> None:
    name, url = role
    table = postgres.table("orders")
    loader_for(postgres.url).load(
        make_job(table, {"id": [1], "name": ["a"]}, mode="upsert", keys=["id"])
    )
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT INSERT ON {table} TO {name}")
    with pytest.raises(LoadError) as raised:
        preflight(url, stream(table, "upsert", ["id"]))
    message = str(raised.value)
    assert f"UPDATE on {table}" in message and f"SELECT on {table}" in message
    assert f"INSERT on {table}__rejects" in message
    assert "nothing was read" in message
