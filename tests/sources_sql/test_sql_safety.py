"""Only one read-only SELECT ever runs; hostile names never reach SQL."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from connectors.errors import SourceError, SpecError
from connectors.spec.sql import SqlSource
from tests.conftest import Database

from .conftest import run

REFUSED = [
    ("DELETE FROM {t}", "DELETE"),
    ("DROP TABLE {t}", "DROP"),
    ("INSERT INTO {t} SELECT * FROM {t}", "INSERT"),
    ("SELECT 1; DROP TABLE {t}", "2 statements"),
    ("SELECT 1 -- \n; DROP TABLE {t}", "2 statements"),
    ("SELECT * FROM {t} FOR UPDATE", "locking"),
    ("SELECT * INTO copy_of_it FROM {t}", "SELECT INTO"),
    ("UPDATE {t} SET id = 0", "UPDATE"),
    ("TRUNCATE TABLE {t}", "TRUNCATE"),
]


@pytest.mark.parametrize(("query", "problem"), REFUSED)
def test_a_refused_query_names_the_problem_and_leaves_the_table(
    database: Database, reader: Any, query: str, problem: str
) -> None:
    t = database.table("victim")
    run(database, f"CREATE TABLE {t} (id integer);\nINSERT INTO {t} VALUES (1)")
    with pytest.raises(SpecError, match="refused") as caught:
        reader(database, query=query.format(t=t))
    assert problem in str(caught.value)
    assert database.rows(t) == [(1,)]


def test_a_data_modifying_cte_is_refused(postgres: Database, reader: Any) -> None:
    t = postgres.table("victim")
    run(postgres, f"CREATE TABLE {t} (id integer);\nINSERT INTO {t} VALUES (1)")
    query = f"WITH gone AS (DELETE FROM {t} RETURNING *) SELECT * FROM gone"
    with pytest.raises(SpecError, match="DELETE"):
        reader(postgres, query=query)
    assert postgres.rows(t) == [(1,)]


def test_the_read_only_transaction_stops_what_the_parser_lets_through(
    postgres: Database, reader: Any
) -> None:
    seq = postgres.table("seq")
    run(postgres, f"CREATE SEQUENCE {seq}")
    with pytest.raises(SourceError, match="read-only transaction"):
        reader(postgres, query=f"SELECT nextval('{seq}')")


def test_mysql_executable_comments_never_run(mariadb: Database, reader: Any) -> None:
    [batch] = reader(mariadb, query="SELECT 1 AS a /*!, 2 AS b */")
    assert batch.schema.names == ["a"]


@pytest.mark.parametrize(
    "name",
    ["orders; DROP TABLE x", 'a"b', "a.b.c", "x--", "", "1abc", "a b", "`x`", "s.t;", "é"],
)
def test_hostile_table_names_are_refused_by_the_spec(name: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="table"):
        SqlSource(kind="sql", connection="src", table=name)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"table": "t", "query": "SELECT 1"},
        {"query": "SELECT 1", "columns": ["a"]},
        {"table": "t", "columns": ["a", "a"]},
        {"table": "t", "password": "x"},
    ],
)
def test_the_spec_wants_exactly_one_of_table_and_query(fields: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        SqlSource(kind="sql", connection="src", **fields)
