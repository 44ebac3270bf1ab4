"""A MariaDB user with rights on its database only, or on tables made for it, loads in
every mode, and never needs a global right; pre-flight names a missing right before
anything is read. The grants are those docs/deploy.md lists. A user is made per test and
dropped after."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from connectors.errors import LoadError
from connectors.loaders import loader_for
from connectors.loaders.preflight import preflight
from connectors.spec.models import Incremental, Stream
from tests.conftest import Database
from tests.loaders.conftest import make_job
from tests.loaders.test_least_privilege import MODES, load_twice, stream

pytestmark = pytest.mark.mariadb

TABLE_RIGHTS = {"append": "INSERT", "replace": "INSERT, DELETE", "upsert": "SELECT, INSERT, UPDATE"}
"""The rights each mode needs on its target, as docs/deploy.md lists them."""


@pytest.fixture
def user(mariadb: Database) -> Iterator[tuple[str, sa.URL]]:
    """A user with no right at all (`USAGE`), and a URL that logs in as it."""
    name = f"u_{uuid.uuid4().hex[:10]}"
    with mariadb.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE USER {account(name)}")
    yield name, mariadb.url.set(username=name)
    with mariadb.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP USER {account(name)}")


def account(name: str) -> str:
    """The account of a user who may log in from any host (`%` doubled for the driver)."""
    return f"`{name}`@'%%'"


def grant(db: Database, rights: str, on: str, to: str) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"GRANT {rights} ON {on} TO {to}")


def qualified(db: Database, name: str) -> str:
    """`database.name`: the loader then checks the database exists instead of making it."""
    return f"{db.url.database}.{name}"


def seed(db: Database, mode: str, keys: list[str]) -> str:
    """The target and the bookkeeping tables, made by the administrator; the target empty."""
    table = qualified(db, f"orders_{mode}")
    loader_for(db.url).load(
        make_job(table, {"id": [9], "name": ["seed"]}, mode=mode, keys=keys, run_id="seed")
    )
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM {table}")
    return table


def grant_tables(db: Database, table: str, mode: str, to: str) -> None:
    """The table rights docs/deploy.md lists for `mode` (staging's right is the database's)."""
    grant(db, TABLE_RIGHTS[mode], table, to)
    grant(db, "INSERT", f"{table}__rejects", to)
    grant(db, "SELECT, INSERT", qualified(db, "_dagsmith_runs"), to)
    if mode == "upsert":
        grant(db, "CREATE TEMPORARY TABLES", f"{db.url.database}.*", to)


@pytest.mark.parametrize(("mode", "keys"), MODES)
def test_a_user_with_rights_on_its_database_only_loads(
    mariadb: Database, user: tuple[str, sa.URL], mode: str, keys: list[str]
) -> None:
    name, url = user
    staging = ", CREATE TEMPORARY TABLES" if mode == "upsert" else ""
    rights = f"CREATE, SELECT, {TABLE_RIGHTS[mode]}{staging}"
    grant(mariadb, rights, f"{mariadb.url.database}.*", account(name))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        held = "SELECT privilege_type FROM information_schema.user_privileges"
        assert [r[0] for r in conn.exec_driver_sql(held)] == ["USAGE"]  # no global right
    engine.dispose()
    load_twice(mariadb, url, mode, keys, qualified(mariadb, f"orders_{mode}"))


def test_a_missing_database_is_made_with_rights_on_it_alone(
    mariadb: Database, user: tuple[str, sa.URL]
) -> None:
    """No global right: CREATE on the database's name is what CREATE DATABASE needs."""
    name, url = user
    server = url.set(database="")  # no database: the fixture's is closed to this user
    database = f"{mariadb.url.database}_new"
    grant(mariadb, "CREATE, SELECT, INSERT", f"{database}.*", account(name))
    table = f"{database}.orders"
    try:
        preflight(server, stream(table, "append", []))
        loader_for(server).load(make_job(table, {"id": [1], "name": ["a"]}))
        assert mariadb.rows(table) == [(1, "a")]
    finally:
        with mariadb.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")


@pytest.mark.parametrize(("mode", "keys"), MODES)
def test_a_user_with_table_rights_only_loads_into_tables_made_for_it(
    mariadb: Database, user: tuple[str, sa.URL], mode: str, keys: list[str]
) -> None:
    name, url = user
    grant_tables(mariadb, seed(mariadb, mode, keys), mode, account(name))
    load_twice(mariadb, url, mode, keys, qualified(mariadb, f"orders_{mode}"))


def test_rights_granted_to_a_default_role_count(
    mariadb: Database, user: tuple[str, sa.URL]
) -> None:
    """information_schema shows a user's own grants only: pre-flight must see the role's."""
    name, url = user
    role = f"r_{name}"
    with mariadb.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role}")
    try:
        grant_tables(mariadb, seed(mariadb, "upsert", ["id"]), "upsert", role)
        with mariadb.engine.begin() as conn:
            conn.exec_driver_sql(f"GRANT {role} TO {account(name)}")
            conn.exec_driver_sql(f"SET DEFAULT ROLE {role} FOR {account(name)}")
        load_twice(mariadb, url, "upsert", ["id"], qualified(mariadb, "orders_upsert"))
    finally:
        with mariadb.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE {role}")


def test_an_incremental_stream_rewrites_its_watermark_with_delete(
    mariadb: Database, user: tuple[str, sa.URL]
) -> None:
    """The loader replaces a watermark by DELETE and INSERT: it needs no UPDATE there."""
    name, url = user
    table = seed(mariadb, "append", [])
    grant_tables(mariadb, table, "append", account(name))
    state = qualified(mariadb, "_dagsmith_state")
    grant(mariadb, "SELECT, INSERT", state, account(name))
    spec = stream(table, "append", []).model_copy(update={"incremental": Incremental(cursor="id")})
    assert named(url, spec) == {f"DELETE on {state}"}
    grant(mariadb, "DELETE", state, account(name))
    preflight(url, spec)
    for run, cursor in (("r1", "1"), ("r2", "2")):
        job = make_job(table, {"id": [int(cursor)]}, run_id=run, state={"cursor": cursor})
        loader_for(url).load(job)
    assert [row[2:4] for row in mariadb.rows(state)] == [("cursor", "2")]


def test_preflight_names_each_missing_right(mariadb: Database, user: tuple[str, sa.URL]) -> None:
    name, url = user
    table = seed(mariadb, "upsert", ["id"])
    grant(mariadb, "INSERT", table, account(name))
    database = mariadb.url.database
    runs, rejects = f"{database}._dagsmith_runs", f"{table}__rejects"
    # A table the user has no right on is hidden from it: it may be missing.
    hidden = "CREATE on database {} (to create {} if it is missing)".format
    assert named(url, stream(table, "upsert", ["id"])) == {
        f"CREATE TEMPORARY TABLES on database {database} (to stage rows)",
        f"UPDATE on {table}",
        f"SELECT on {table}",
        hidden(database, "orders_upsert__rejects"),
        f"INSERT on {rejects}",
        hidden(database, "_dagsmith_runs"),
        f"SELECT on {runs}",
        f"INSERT on {runs}",
    }


def test_preflight_names_create_where_a_table_is_missing(
    mariadb: Database, user: tuple[str, sa.URL]
) -> None:
    name, url = user
    grant(mariadb, "SELECT, INSERT", f"{mariadb.url.database}.*", account(name))
    database = mariadb.url.database
    assert named(url, stream("orders", "append", [])) == {
        f"CREATE on database {database} (to create {table} if it is missing)"
        for table in ("orders", "orders__rejects", "_dagsmith_runs")
    }


def named(url: sa.URL, spec: Stream) -> set[str]:
    """The rights the pre-flight's refusal names (it reads nothing)."""
    with pytest.raises(LoadError) as raised:
        preflight(url, spec)
    message = str(raised.value)
    assert "nothing was read" in message
    return set(message.splitlines()[0].split(": ", 1)[1].split(", "))
