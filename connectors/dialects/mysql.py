"""MySQL and MariaDB: PyMySQL through SQLAlchemy, loaded by the generic loader.

DDL commits at once here, so the generic loader takes a named lock per table and drops
what a failed run created (`connectors.loaders.sql_ddl`). With PyMySQL the loader sends
rows by LOAD DATA LOCAL INFILE (`file_stager`), and counts an upsert's updates from its
affected rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.dialects.base import STRING, Dialect, decimal_or_text
from connectors.lineage import names as lineage_names
from connectors.types import ColumnType

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.types import TypeEngine

    from connectors.dialects.base import FileStager
    from connectors.lineage.names import DatasetName

KEY_LENGTH = 255
"""Key-sized text: MySQL/MariaDB cannot index an unbounded TEXT column."""
# Field codes. A description does not say whether an INT is unsigned, so LONG (INT) is
# read as bigint; TIMESTAMP is UTC because the session's time zone is set so.
_CODES = {
    1: ColumnType("integer"),
    2: ColumnType("integer"),
    9: ColumnType("integer"),
    3: ColumnType("bigint"),
    8: ColumnType("bigint"),
    4: ColumnType("float"),
    5: ColumnType("float"),
    10: ColumnType("date"),
    14: ColumnType("date"),
    12: ColumnType("timestamp"),
    7: ColumnType("timestamptz"),
    245: ColumnType("json"),
}
_DECIMALS = (0, 246)
_SWITCH = "_local_infile"
"""PyMySQL's switch that lets the server fetch a file (set at connect time; it has no
public setter), turned on for our own LOAD DATA LOCAL INFILE only."""


class MySQL(Dialect):
    """MySQL and MariaDB (SQLAlchemy calls both `mysql`)."""

    name = "mysql"
    label = "MySQL/MariaDB"
    schemes = frozenset({"mysql", "mariadb"})
    driver = "mysql+pymysql"
    driver_modules = ("pymysql", "MySQLdb", "mysql", "mariadb")
    connect_timeout_args: ClassVar[dict[str, str]] = {"pymysql": "connect_timeout"}
    named_locks = True
    max_identifier = 64
    identifier_unit = "characters"
    quote = "`"
    sqlglot = "mysql"
    read_only = ("SET time_zone = '+00:00'", "START TRANSACTION READ ONLY")
    # Too many connections, lock wait timeout, deadlock, XA deadlock, cannot connect,
    # server gone, connection lost.
    transient_codes = frozenset({1040, 1205, 1213, 1614, 2002, 2003, 2006, 2013, 2055})
    conflict_codes = frozenset({1213, 1205})
    timestamp_is_utc = True
    naive_utc = True
    query_json_parsed = False
    rights_path = "connectors.loaders.rights:mariadb_missing"
    default_port = 3306
    upsert_counts_updates = True

    def dataset(self, url: sa.URL, table: str) -> DatasetName:
        """`mysql://host:port` and `database.table`: a `schema.table` names its database."""
        schema, _, name = table.rpartition(".")
        namespace = f"mysql://{url.host or 'localhost'}:{url.port or self.default_port}"
        return lineage_names.table(namespace, schema or url.database, name)

    def reflected_name(self, name: str) -> str:
        """SQLAlchemy's MySQL reflection leaves a backtick in a name doubled."""
        return name.replace("``", "`")

    def ddl_type(self, ctype: ColumnType, key: bool = False) -> TypeEngine[Any]:
        """No zoned type: timestamps are DATETIME(6) holding UTC; keys are bounded text."""
        if ctype.name in ("timestamp", "timestamptz"):
            # SQLAlchemy's MySQL dialect loads with a MySQL engine, not at every start-up.
            from sqlalchemy.dialects import mysql

            return mysql.DATETIME(fsp=6)
        import sqlalchemy as sa

        chosen = super().ddl_type(ctype, key)
        return sa.String(KEY_LENGTH) if key and isinstance(chosen, sa.Text) else chosen

    def described_type(self, column: Sequence[Any]) -> ColumnType:
        """Field codes; DECIMAL from its display size and scale."""
        code, size, scale = column[1], column[3], column[5]
        if not isinstance(code, int):
            return STRING
        if code in _DECIMALS and size:
            # The display size counts the sign and the point; assume no sign to never fall short.
            return decimal_or_text(min(size - (1 if scale else 0), 38), scale)
        return _CODES.get(code, STRING)

    def upsert(self, target: sa.TableClause, rows: Any, keys: list[str]) -> Any:
        """INSERT ... SELECT ... ON DUPLICATE KEY UPDATE."""
        names = list(rows.selected_columns.keys())
        rest = [n for n in names if n not in keys]
        import sqlalchemy as sa
        from sqlalchemy.dialects import mysql

        statement = mysql.insert(target).from_select(names, rows)
        # `statement.inserted` escapes a `%` in a name twice; VALUES(column) renders it right.
        # With every column a key there is nothing to update: re-set a key, a no-op.
        sets = {n: sa.func.values(sa.column(n)) for n in rest or keys[:1]}
        return statement.on_duplicate_key_update(sets)

    def updated_rows(self, affected: int, merged: int) -> int:
        """ON DUPLICATE KEY UPDATE affects 1 row per insert, 2 per update and, with
        CLIENT_FOUND_ROWS (which SQLAlchemy's MySQL dialects always set), 1 per row left as
        it was: the server compares the row's bytes, so 'B' -> 'b' is an update."""
        return affected - merged

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Tell the server that PyMySQL may send files (LOAD DATA LOCAL INFILE). PyMySQL's
        own switch stays off but during `file_stager`'s statement: a server asking for a
        file at any other time is refused."""
        if engine.driver != "pymysql":
            return
        from pymysql.constants import CLIENT
        from sqlalchemy import event

        def local_files(*args: Any) -> None:
            params: dict[str, Any] = args[3]
            params["client_flag"] = params.get("client_flag", 0) | CLIENT.LOCAL_FILES

        event.listen(engine, "do_connect", local_files)

    def file_stager(self, conn: sa.Connection) -> FileStager | None:
        """LOAD DATA LOCAL INFILE where the engine was prepared for it and the server
        allows it (`local_infile`)."""
        from pymysql.constants import CLIENT

        raw = conn.connection.dbapi_connection
        if (
            conn.engine.driver != "pymysql"
            or not getattr(raw, "client_flag", 0) & CLIENT.LOCAL_FILES
        ):
            return None
        if not conn.exec_driver_sql("SELECT @@local_infile").scalar():
            return None
        return partial(_load_file, conn)

    def row_estimate(self, schema: str, name: str, quoted: str) -> str | None:
        """`information_schema.tables.table_rows`: the engine's estimate, no scan."""
        where = f"'{schema}'" if schema else "DATABASE()"
        return (
            "SELECT table_rows AS n FROM information_schema.tables "
            f"WHERE table_schema = {where} AND table_name = '{name}'"
        )


def _load_file(
    conn: sa.Connection, table: sa.TableClause, columns: list[str], path: str
) -> list[str]:
    """LOAD DATA LOCAL INFILE of `path` (its name bound, never pasted); the server's
    warnings, since with LOCAL it only warns of a value it had to change."""
    prepare = conn.dialect.identifier_preparer
    # The preparer doubles a % in a name, as PyMySQL's formatting of parameters needs.
    into = prepare.format_table(table)
    names = ", ".join(prepare.quote(c) for c in columns)
    statement = (
        f"LOAD DATA LOCAL INFILE %s INTO TABLE {into} CHARACTER SET utf8mb4 "
        f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({names})"
    )
    raw = conn.connection.dbapi_connection
    setattr(raw, _SWITCH, True)
    try:
        conn.exec_driver_sql(statement, (path,))
    finally:
        setattr(raw, _SWITCH, False)
    warnings = conn.exec_driver_sql("SHOW WARNINGS").all()
    return [str(message) for level, _, message in warnings if level != "Note"]


MYSQL = MySQL()
