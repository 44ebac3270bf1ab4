"""Pre-flight: what can be known about the target before the source is read.

A load that would fail on the target (unreachable, a column retyped, a right revoked)
fails here, before a file is opened or an API called, so a failure reads nothing. It
checks: the table's name suits the database (no schema on SQLite); the target answers; an
existing table has the spec's typed columns with types that hold them (and the upsert
keys); and on PostgreSQL and MySQL/MariaDB the connection's role has the rights the mode
needs (`connectors.loaders.rights`), or may create what is missing. A target its driver
alone reaches (SQLite) is looked at without SQLAlchemy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors.dialects import dialect_for
from connectors.dialects.base import file_parts
from connectors.errors import LoadError, SpecError
from connectors.loaders.prepare import TargetColumn, split_table, type_problems
from connectors.spec.models import Stream

if TYPE_CHECKING:
    import sqlalchemy as sa

    from connectors.dialects.base import Address, Dialect


def preflight(url: Address, stream: Stream, *, keyed_by_interval: bool = False) -> None:
    """Raise what a load of `stream` into `url` would fail on, before anything is read.

    Args:
        url: The target's SQLAlchemy URL (or its text).
        stream: The stream about to run.
        keyed_by_interval: The run replaces its data interval's rows (it deletes too).
    """
    dialect = dialect_for(url)
    schema, table = split_table(stream.load.table)
    if schema and not dialect.schemas:
        # The spec cannot tell: its target is a connection id, known only now.
        raise SpecError(
            f"load.table {stream.load.table!r} names a schema, and {dialect.label} has no "
            "schemas: nothing was read",
            hint=f"name the table without a schema (table: {table}) for a {dialect.label} target",
        )
    if dialect.file_database and not Path(_database(url) or "").exists():
        return  # the embedded file is made by the first load: there is nothing to check
    if not dialect.reflects:
        # duckdb-engine's reflection fails on SQLAlchemy 2.1 (pg_catalog.pg_collation): the
        # loader checks the columns inside its transaction instead.
        return
    native = dialect.native(url)
    if native is not None:
        # No rights to check: a native target is a file.
        if (columns := native.columns(stream.load.table)) is not None:
            _check_columns(stream, columns, dialect)
        return
    _through_sqlalchemy(url, stream, keyed_by_interval, dialect)


def _database(url: Address) -> str | None:
    """A file database's path."""
    if not isinstance(url, str):
        return url.database
    parts = file_parts(url)
    return parts[0] if parts is not None else None


def _through_sqlalchemy(
    url: Address, stream: Stream, keyed_by_interval: bool, dialect: Dialect
) -> None:
    import sqlalchemy as sa

    from connectors.loaders import sql_merge
    from connectors.loaders.sql import translate

    url = sa.make_url(url)
    where = f"pre-flight of {stream.load.table} at {url.render_as_string(hide_password=True)}"
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            # Rights first: MariaDB refuses to describe a table to a user without rights on it.
            _check_rights(conn, stream, keyed_by_interval)
            schema, name = split_table(stream.load.table)
            inspector = sa.inspect(conn)
            if (not schema or inspector.has_schema(schema)) and inspector.has_table(name, schema):
                reflected = inspector.get_columns(name, schema=schema)
                described = [sql_merge.target_column(c) for c in reflected]
                _check_columns(stream, described, dialect)
    except sa.exc.DBAPIError as exc:
        raise translate(exc, where) from exc
    finally:
        engine.dispose()


def _check_columns(stream: Stream, columns: list[TargetColumn], dialect: Dialect) -> None:
    """The spec's typed columns and the upsert keys against an existing table."""
    problems = type_problems(dict(stream.transform.types), columns, dialect)
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
    """Each right the load needs, or the right to create what is missing, as the target
    itself answers it (`Dialect.rights_path`: SQLite and DuckDB have no rights; other
    dialects are not checked)."""
    missing = dialect_for(conn).missing_rights(conn, stream, keyed_by_interval)
    if missing:
        raise LoadError(
            f"the connection's role lacks rights to load {stream.load.table}: "
            + ", ".join(dict.fromkeys(missing)),
            hint="grant them (docs/deploy.md lists the grants each mode needs); "
            "retrying cannot fix this; nothing was read",
        )
