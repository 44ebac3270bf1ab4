"""SQLite: the standard library's sqlite3 through SQLAlchemy, loaded by the generic loader."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import TypeEngine

from connectors.dialects.base import Dialect
from connectors.types import ColumnType


class _KeyInteger(sa.Integer):
    """An integer key column, declared INT (the same affinity as INTEGER)."""


@compiles(_KeyInteger, "sqlite")
def _key_integer(_type: _KeyInteger, _compiler: Any, **_kw: Any) -> str:
    return "INT"


class SQLite(Dialect):
    """SQLite: a file, no schemas (`ATTACH` aside), DDL inside transactions."""

    name = "sqlite"
    label = "SQLite"
    schemes = frozenset({"sqlite"})
    driver = "sqlite"
    driver_modules = ("sqlite3", "pysqlite2")
    file_database = True
    schemas = False
    transactional_ddl = True
    max_identifier = None
    sqlglot = "sqlite"
    read_only = ("PRAGMA query_only = ON",)
    lost_without_code = False  # pysqlite calls most of its errors "operational"
    integers_64bit = True

    def ddl_type(self, ctype: ColumnType, key: bool = False) -> TypeEngine[Any]:
        """JSON is stored as text. An integer key is declared INT: a column declared exactly
        INTEGER PRIMARY KEY is the rowid, which numbers a row inserted without its key."""
        if key and ctype.name == "integer":
            return _KeyInteger()
        return sa.Text() if ctype.name == "json" else super().ddl_type(ctype, key)

    def upsert(self, target: sa.TableClause, rows: Any, keys: list[str]) -> Any:
        """INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM."""
        names = list(rows.selected_columns.keys())
        rest = [n for n in names if n not in keys]
        lite = sqlite.insert(target).from_select(names, rows)
        if not rest:
            return lite.on_conflict_do_nothing(index_elements=keys)
        return lite.on_conflict_do_update(
            index_elements=keys,
            set_={n: lite.excluded[n] for n in rest},
            where=sa.or_(*(target.c[n].is_distinct_from(lite.excluded[n]) for n in rest)),
        )

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Make pysqlite leave BEGIN to SQLAlchemy, so DDL joins the transaction (SQLAlchemy's
        documented recipe); BEGIN IMMEDIATE takes the write lock up front."""

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


SQLITE = SQLite()
