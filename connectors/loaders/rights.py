"""Rights a load needs on PostgreSQL and MySQL/MariaDB, as the target itself answers it.

The dialects name these functions (`Dialect.rights_path`); the pre-flight
(`connectors.loaders.preflight`) calls them before anything is read. docs/deploy.md lists
the grants each mode needs.
"""

from __future__ import annotations

import sqlalchemy as sa

from connectors import dberrors
from connectors.dialects import Dialect
from connectors.dialects.mysql import MYSQL
from connectors.dialects.postgres import POSTGRES
from connectors.loaders import sql_ddl
from connectors.loaders.base import RUNS_TABLE, STATE_TABLE
from connectors.loaders.prepare import rejects_table, split_table
from connectors.spec.models import Stream

_PROBE = "_dagsmith_probe"
_PROBES = {
    "SELECT": "EXPLAIN SELECT 1 FROM {table}",
    "INSERT": "EXPLAIN INSERT INTO {table} () VALUES ()",
    "UPDATE": f"EXPLAIN UPDATE {{table}} SET {_PROBE} = NULL",
    "DELETE": "EXPLAIN DELETE FROM {table}",
}
"""MySQL/MariaDB: per right, a statement that needs it and changes nothing (EXPLAIN)."""
_CHECKED = frozenset({1049, 1050, 1054, 1060, 1146})
"""Errors MySQL/MariaDB raise once the right was granted: no such database, table exists,
no such column, a column twice, no such table."""


def postgres_missing(conn: sa.Connection, stream: Stream, keyed_by_interval: bool) -> list[str]:
    """PostgreSQL's privilege functions, on the schema and each table (or CREATE)."""
    schema = split_table(stream.load.table)[0]
    schema = schema or str(conn.exec_driver_sql("SELECT current_schema()").scalar())
    missing = (
        []
        if _can(conn, "database", None, "TEMPORARY") or not _stages(stream)
        else ["TEMPORARY on the database (to stage rows)"]
    )
    if conn.execute(sa.select(sa.func.to_regnamespace(schema))).scalar() is None:
        if not _can(conn, "database", None, "CREATE"):
            missing.append(f"CREATE on the database (to create schema {schema})")
    elif not _can(conn, "schema", schema, "USAGE"):
        missing.append(f"USAGE on schema {schema}")
    else:
        missing += _table_rights(
            conn, schema, _wanted(stream, keyed_by_interval, "UPDATE", POSTGRES)
        )
    return missing


def _table_rights(conn: sa.Connection, schema: str, wanted: dict[str, list[str]]) -> list[str]:
    """PostgreSQL: the rights missing on each table that exists, or CREATE on the schema."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    missing = []
    for table, rights in wanted.items():
        qualified = f"{quote(schema)}.{quote(table)}"
        if conn.execute(sa.select(sa.func.to_regclass(qualified))).scalar() is None:
            if not _can(conn, "schema", schema, "CREATE"):
                missing.append(f"CREATE on schema {schema} (to create {table})")
            continue
        missing += [
            f"{r} on {schema}.{table}" for r in rights if not _can(conn, "table", qualified, r)
        ]
    return missing


def _stages(stream: Stream) -> bool:
    """Whether the load stages its rows in a temporary table (an upsert, a dedupe)."""
    return stream.load.mode == "upsert" or stream.transform.dedupe is not None


def _wanted(
    stream: Stream, keyed_by_interval: bool, rewrite: str, dialect: Dialect
) -> dict[str, list[str]]:
    """Each table the load writes, and the rights it needs on it; `rewrite` is the right
    that replaces a stored watermark (UPDATE, or DELETE where the loader deletes and inserts).
    """
    load = stream.load
    rights = {"append": ["INSERT"], "replace": ["INSERT", "DELETE"]}.get(
        load.mode, ["INSERT", "UPDATE", "SELECT"]
    )
    if keyed_by_interval and load.mode == "append":
        rights = ["INSERT", "SELECT", "DELETE"]
    name = split_table(load.table)[1]
    rejects = rejects_table(name, dialect)
    wanted = {name: rights, rejects: ["INSERT"], RUNS_TABLE: ["SELECT", "INSERT"]}
    if stream.incremental is not None:
        wanted[STATE_TABLE] = ["SELECT", "INSERT", rewrite]
    return wanted


def _can(conn: sa.Connection, kind: str, name: str | None, right: str) -> bool:
    """PostgreSQL's has_<kind>_privilege(name, right); the current database when `name` is None."""
    if kind == "database":
        query = "SELECT has_database_privilege(current_database(), %(right)s)"
        return bool(conn.exec_driver_sql(query, {"right": right}).scalar())
    function = {"schema": sa.func.has_schema_privilege, "table": sa.func.has_table_privilege}[kind]
    return bool(conn.execute(sa.select(function(name, right))).scalar())


def mariadb_missing(conn: sa.Connection, stream: Stream, keyed_by_interval: bool) -> list[str]:
    """MySQL/MariaDB: each right probed by a statement that needs it (see `_allows`).

    information_schema's privilege views show the user's own grants, not its roles', so
    the server is asked instead; it counts roles', global and wildcard grants.
    MariaDB gives the creator of a table no right on it: a missing table needs CREATE
    and the rights, granted on the database.
    """
    quote = conn.dialect.identifier_preparer.quote_identifier
    current = str(conn.exec_driver_sql("SELECT DATABASE()").scalar())
    schema = split_table(stream.load.table)[0] or current
    missing = []
    stage = f"{quote(current)}.{quote(_PROBE)}"
    if _stages(stream) and not _allows(conn, _create("TEMPORARY TABLE", stage)):
        missing.append(f"CREATE TEMPORARY TABLES on database {current} (to stage rows)")
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names(schema)) if inspector.has_schema(schema) else set()
    for table, rights in _wanted(stream, keyed_by_interval, "DELETE", MYSQL).items():
        qualified = f"{quote(schema)}.{quote(table)}"
        if table not in present and not _allows(conn, _create("TABLE", qualified)):
            # A table the user has no right on is hidden from it, as if missing.
            missing.append(f"CREATE on database {schema} (to create {table} if it is missing)")
        probes = {right: _PROBES[right].format(table=qualified) for right in rights}
        missing += [
            f"{r} on {schema}.{table}" for r, sql in probes.items() if not _allows(conn, sql)
        ]
    return missing


def _create(kind: str, name: str) -> str:
    """CREATE `kind` `name` with a column twice: refused without the right, else invalid."""
    return f"CREATE {kind} {name} ({_PROBE} INT, {_PROBE} INT)"


def _allows(conn: sa.Connection, probe: str) -> bool:
    """Whether MySQL/MariaDB let the user run `probe`; any other error is raised."""
    try:
        conn.exec_driver_sql(probe)
    except sa.exc.DBAPIError as exc:
        code = dberrors.driver_code(exc.orig)
        if code in sql_ddl.REFUSED:
            return False
        if code in _CHECKED:
            return True
        raise
    return True
