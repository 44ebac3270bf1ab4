"""SQLite: a file, loaded through the standard library's sqlite3 without SQLAlchemy.

`connectors.loaders.sqlite` loads a `sqlite:///path` target (its state, failed-run records
and pre-flight too) and stores values as SQLAlchemy's SQLite types did, in columns of the
types SQLAlchemy's SQLite dialect declared, so tables made by either keep loading and read
back the same through SQLAlchemy (`kind: sql`, `dagsmith runs`). A URL with query options
(`?timeout=30`, `file:...?mode=ro&uri=true`) or another driver goes through SQLAlchemy's pysqlite
dialect and the generic loader, which honour them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from connectors.dialects.base import Dialect, file_parts, file_url
from connectors.types import ColumnType

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.types import TypeEngine

    from connectors.dialects.base import Address
    from connectors.loaders.base import NativeTarget
    from connectors.loaders.records import Kind

NATIVE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
"""URL schemes the standard library's sqlite3 serves (SQLAlchemy's default driver)."""
_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "DATETIME",
    "timestamptz": "DATETIME",
    "json": "TEXT",
}
"""Spec type -> the declared type SQLAlchemy's SQLite dialect gives `ddl_type`'s."""
RECORD_TYPES: dict[Kind, str] = {
    "key": "VARCHAR(255)",
    "mode": "VARCHAR(16)",
    "bigint": "BIGINT",
    "text": "TEXT",
    "time": "DATETIME",
}
"""Bookkeeping column kind -> its declared type, as `connectors.loaders.tables` made it."""
_NAMED = {
    **dict.fromkeys(("BIGINT", "INT", "INTEGER", "SMALLINT"), "int"),
    **dict.fromkeys(("BOOL", "BOOLEAN"), "bool"),
    **dict.fromkeys(("CHAR", "NCHAR", "NVARCHAR", "TEXT", "VARCHAR"), "text"),
    **dict.fromkeys(("DATE", "DATE_CHAR"), "date"),
    **dict.fromkeys(("DATETIME", "DATETIME_CHAR", "TIMESTAMP"), "timestamp"),
    **dict.fromkeys(("DOUBLE", "FLOAT", "REAL"), "float"),
    **dict.fromkeys(("DECIMAL", "NUMERIC"), "numeric"),
    **dict.fromkeys(("JSON", "JSONB"), "json"),
    **dict.fromkeys(("BLOB", "TIME", "TIME_CHAR"), "other"),
}
"""The declared types SQLAlchemy's SQLite reflection names, by the family of its type."""
_AS_TEXT = frozenset({"date", "timestamp", "timestamptz", "decimal"})
"""Spec types a TEXT column holds as text: SQLite's own way to keep dates and times (its date
functions read ISO 8601 text), and decimals digit for digit."""
_DATETIME = "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:06d}"
"""How SQLAlchemy's SQLite DATETIME stores a value (always with microseconds)."""


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

    def native(self, url: Address) -> NativeTarget | None:
        """The file through sqlite3 alone, for a URL without query options or a host."""
        path = native_path(url)
        if path is None:
            return None
        from connectors.loaders.sqlite import SqliteTarget

        return SqliteTarget(path, file_url(self.name, path or None, {}))

    def shown(self, url: Address) -> str:
        """A native URL's text as SQLAlchemy renders it (there is no password to mask)."""
        path = native_path(url)
        return super().shown(url) if path is None else file_url(self.name, path or None, {})

    def holds(self, ctype: ColumnType, family: str) -> bool:
        """As every database, and a TEXT column holds dates, times and decimals (`stored`)."""
        return super().holds(ctype, family) or (family == "text" and ctype.name in _AS_TEXT)

    def column_type(self, ctype: ColumnType, key: bool = False) -> str:
        """`ddl_type`'s declared type, as SQLAlchemy's SQLite dialect compiles it."""
        if key and ctype.name == "integer":
            return "INT"
        if ctype.name == "decimal":
            return f"NUMERIC({ctype.precision}, {ctype.scale})"
        return _TYPES[ctype.name]

    def ddl_type(self, ctype: ColumnType, key: bool = False) -> TypeEngine[Any]:
        """JSON is stored as text. An integer key is declared INT: a column declared exactly
        INTEGER PRIMARY KEY is the rowid, which numbers a row inserted without its key."""
        import sqlalchemy as sa

        if key and ctype.name == "integer":
            return _key_integer()()
        return sa.Text() if ctype.name == "json" else super().ddl_type(ctype, key)

    def upsert(self, target: sa.TableClause, rows: Any, keys: list[str]) -> Any:
        """INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE ... IS DISTINCT FROM."""
        import sqlalchemy as sa
        from sqlalchemy.dialects import sqlite

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
        import sqlalchemy as sa

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def native_path(url: Address) -> str | None:
    """The file of a URL sqlite3 alone serves ('' in memory); None for one that needs
    SQLAlchemy (query options, a host, another driver)."""
    if not isinstance(url, str):
        plain = url.drivername in NATIVE_DRIVERS and not (url.query or url.host or url.username)
        return (url.database or "") if plain else None
    if url.partition("://")[0].lower() not in NATIVE_DRIVERS:
        return None
    parts = file_parts(url)
    if parts is None or parts[1]:
        return None
    return parts[0] or ""


def family(declared: str) -> str:
    """The family of a declared column type, as SQLAlchemy's SQLite reflection reads it
    (its type names, else SQLite's affinity rules) and `sql_merge.family` names it."""
    name = re.sub(r"\(.*", "", declared).strip().upper()
    if name in _NAMED:
        return _NAMED[name]
    if "INT" in name:
        return "int"
    if any(word in name for word in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in name or not name:
        return "other"
    return "float" if any(word in name for word in ("REAL", "FLOA", "DOUB")) else "numeric"


def stored(value: Any, column_family: str) -> Any:
    """A value as SQLAlchemy's SQLite type of its column stored it: times as text (naive
    UTC, microseconds always), a date in a timestamp column at midnight, decimals as
    floats (in a text column, as their digits); anything else as sqlite3 binds it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if column_family == "date":
            return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        return _DATETIME.format(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
        )
    if isinstance(value, date):
        if column_family == "timestamp":
            return _DATETIME.format(value.year, value.month, value.day, 0, 0, 0, 0)
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    if isinstance(value, Decimal):
        return str(value) if column_family == "text" else float(value)
    return value


@cache
def _key_integer() -> type[TypeEngine[Any]]:
    """INTEGER declared INT (the same affinity), for SQLAlchemy's DDL of the generic loader."""
    import sqlalchemy as sa
    from sqlalchemy.ext.compiler import compiles

    class KeyInteger(sa.Integer):
        """An integer key column, declared INT."""

    compiles(KeyInteger, "sqlite")(lambda _type, _compiler, **_kw: "INT")
    return KeyInteger


SQLITE = SQLite()
