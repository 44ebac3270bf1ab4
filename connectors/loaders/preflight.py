"""Pre-flight: what can be known about the target before the source is read.

A load that would fail on the target (unreachable, a column retyped, a right revoked)
fails here, before a file is opened or an API called, so a failure reads nothing. It
checks: the target answers; an existing table has the spec's typed columns with types
that hold them (and the upsert keys); and on PostgreSQL the connection's role has the
rights the mode needs (docs/deploy.md lists them), or may create what is missing.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from connectors.errors import LoadError
from connectors.loaders import sql_merge
from connectors.loaders.base import RUNS_TABLE, STATE_TABLE
from connectors.loaders.prepare import rejects_table, split_table, type_problems
from connectors.loaders.sql import translate
from connectors.spec.models import Stream


def preflight(url: sa.URL, stream: Stream, *, keyed_by_interval: bool = False) -> None:
    """Raise what a load of `stream` into `url` would fail on, before anything is read.

    Args:
        url: The target's SQLAlchemy URL.
        stream: The stream about to run.
        keyed_by_interval: The run replaces its data interval's rows (it deletes too).
    """
    if url.get_backend_name() in {"sqlite", "duckdb"} and not Path(url.database or "").exists():
        return  # the embedded file is made by the first load: there is nothing to check
    if url.get_backend_name() == "duckdb":
        # duckdb-engine's reflection fails on SQLAlchemy 2.1 (pg_catalog.pg_collation): the
        # loader checks the columns inside its transaction instead.
        return
    where = f"pre-flight of {stream.load.table} at {url.render_as_string(hide_password=True)}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            _check_columns(conn, stream)
            if conn.dialect.name == "postgresql":
                _check_rights(conn, stream, keyed_by_interval)
    except sa.exc.DBAPIError as exc:
        raise translate(exc, where) from exc
    finally:
        engine.dispose()


def _check_columns(conn: sa.Connection, stream: Stream) -> None:
    """The spec's typed columns and the upsert keys against an existing table."""
    schema, name = split_table(stream.load.table)
    inspector = sa.inspect(conn)
    if (schema and not inspector.has_schema(schema)) or not inspector.has_table(name, schema):
        return
    columns = [sql_merge.target_column(c) for c in inspector.get_columns(name, schema=schema)]
    problems = type_problems(dict(stream.transform.types), columns)
    have = {c.name for c in columns}
    problems += [
        f"key column {k!r} is missing from the table" for k in stream.load.keys if k not in have
    ]
    if problems:
        raise LoadError(
            f"table {stream.load.table} does not match the spec: " + "; ".join(problems),
            hint="alter the table, or change the spec's types; nothing was read",
        )


def _check_rights(conn: sa.Connection, stream: Stream, keyed_by_interval: bool) -> None:
    """PostgreSQL's privilege functions: each right the load needs, or the right to create."""
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
        missing += _table_rights(conn, schema, _wanted(stream, keyed_by_interval))
    if missing:
        raise LoadError(
            f"the connection's role lacks rights to load {stream.load.table}: "
            + ", ".join(dict.fromkeys(missing)),
            hint="grant them (docs/deploy.md lists the grants each mode needs); "
            "retrying cannot fix this; nothing was read",
        )


def _table_rights(conn: sa.Connection, schema: str, wanted: dict[str, list[str]]) -> list[str]:
    """The rights missing on each table that exists, or CREATE on the schema for the rest."""
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


def _wanted(stream: Stream, keyed_by_interval: bool) -> dict[str, list[str]]:
    """Each table the load writes, and the rights it needs on it."""
    load = stream.load
    rights = {"append": ["INSERT"], "replace": ["INSERT", "DELETE"]}.get(
        load.mode, ["INSERT", "UPDATE", "SELECT"]
    )
    if keyed_by_interval and load.mode == "append":
        rights = ["INSERT", "SELECT", "DELETE"]
    name = split_table(load.table)[1]
    wanted = {name: rights, rejects_table(name): ["INSERT"], RUNS_TABLE: ["SELECT", "INSERT"]}
    if stream.incremental is not None:
        wanted[STATE_TABLE] = ["SELECT", "INSERT", "UPDATE"]
    return wanted


def _can(conn: sa.Connection, kind: str, name: str | None, right: str) -> bool:
    """has_<kind>_privilege(name, right); the current database when `name` is None."""
    if kind == "database":
        query = "SELECT has_database_privilege(current_database(), %(right)s)"
        return bool(conn.exec_driver_sql(query, {"right": right}).scalar())
    function = {"schema": sa.func.has_schema_privilege, "table": sa.func.has_table_privilege}[kind]
    return bool(conn.execute(sa.select(function(name, right))).scalar())
