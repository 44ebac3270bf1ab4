"""Errors say which connection and table failed, never the password, and whether to retry."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.errors import SourceError, SourceUnavailable
from tests.conftest import Database

from .conftest import run


def test_a_missing_table_is_named(database: Database, reader: Any) -> None:
    with pytest.raises(SourceError, match="no_such_table") as caught:
        reader(database, table="no_such_table")
    assert "'src'" in str(caught.value)


def test_a_missing_column_is_named_with_the_ones_there(database: Database, reader: Any) -> None:
    t = database.table("items")
    run(database, f"CREATE TABLE {t} (id integer)")
    with pytest.raises(SourceError, match=r"'nope'(.|\n)*columns are: id"):
        reader(database, table=t, columns=["id", "nope"])


def test_bad_sql_is_a_source_error(postgres: Database, reader: Any) -> None:
    t = postgres.table("items")
    run(postgres, f"CREATE TABLE {t} (id integer)")
    with pytest.raises(SourceError, match="nope") as caught:
        reader(postgres, query=f"SELECT nope FROM {t}")
    assert not isinstance(caught.value, SourceUnavailable)


def test_a_wrong_password_never_shows_up(mariadb: Database, reader: Any) -> None:
    user = f"u_{uuid.uuid4().hex[:10]}"
    with mariadb.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Right-Pass-7'"))
    wrong = "Wr0ng-S3cret-xyz"
    try:
        with pytest.raises(SourceError) as caught:
            reader(
                Database(mariadb.url.set(username=user, password=wrong), None, mariadb.engine),
                table="t",
            )
    finally:
        with mariadb.engine.begin() as conn:
            conn.execute(sa.text(f"DROP USER '{user}'@'%'"))
    assert not isinstance(caught.value, SourceUnavailable)
    assert wrong not in str(caught.value)
    assert "password" in str(caught.value)


@pytest.mark.parametrize("scheme", ["postgresql+psycopg2", "mysql+pymysql"])
def test_a_closed_port_is_transient(reader: Any, scheme: str) -> None:
    url = sa.make_url(f"{scheme}://someone:Secret-99@127.0.0.1:1/test")
    with pytest.raises(SourceUnavailable) as caught:
        reader(Database(url, None, sa.create_engine(url)), table="t")
    assert "Secret-99" not in str(caught.value)
