"""DDL of the generic loader: where it can be undone, and what to undo where it cannot.

SQLite (and DuckDB) run DDL inside a transaction (`Dialect.transactional_ddl`), so the
generic loader creates tables in the load's own transaction there; pysqlite has to be
told to leave transactions to SQLAlchemy for that (`Dialect.prepare_engine`).
MySQL/MariaDB commit on every CREATE, so there the tables this run created are
remembered and dropped if the run fails, and every load of a table holds a named lock
(`GET_LOCK`, `Dialect.named_locks`) from its first look at the catalog to its end: two
loads of one table take turns instead of racing to create it or deadlocking on its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

from connectors import dberrors
from connectors.dialects import dialect_for
from connectors.errors import TargetUnavailable
from connectors.runtime import log

REFUSED = frozenset({1044, 1142, 1143})
"""MySQL/MariaDB's access denied: to a database, a table, a column."""
LOCK_WAIT_SECONDS = 3600
"""How long a load waits for another load of the same table to finish."""


@contextmanager
def table_lock(conn: sa.Connection, table: str) -> Iterator[None]:
    """Hold MySQL/MariaDB's named lock of a target table (a no-op without named locks)."""
    if not dialect_for(conn).named_locks:
        yield
        return
    database = conn.exec_driver_sql("SELECT DATABASE()").scalar()
    digest = hashlib.sha256(f"{database}\x1f{table}".encode()).hexdigest()[:40]
    name = f"dagsmith:{digest}"  # MySQL refuses lock names over 64 characters
    got = conn.execute(sa.select(sa.func.get_lock(name, LOCK_WAIT_SECONDS))).scalar()
    conn.commit()
    if got != 1:
        raise TargetUnavailable(
            f"{table}: another load of the table held it for {LOCK_WAIT_SECONDS} s",
            hint="retry once the other load has finished",
        )
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(sa.select(sa.func.release_lock(name)))
        conn.commit()


def missing(conn: sa.Connection, tables: list[sa.Table]) -> list[sa.Table]:
    """The tables the catalog does not have."""
    inspector = sa.inspect(conn)
    return [t for t in tables if not _has_table(inspector, t)]


def _has_table(inspector: sa.Inspector, table: sa.Table) -> bool:
    """Whether the table exists; one the user has no right on is taken to exist.

    MySQL/MariaDB refuse to describe such a table whether it exists or not, and it is not
    the load's to create: a user with rights on its own tables only meets the
    `_dagsmith_state` made by another account, which a stream without a watermark never
    touches.
    """
    try:
        return inspector.has_table(table.name, schema=table.schema)
    except sa.exc.DBAPIError as exc:
        if dberrors.driver_code(exc.orig) not in REFUSED:
            raise
        return True


def create(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """CREATE TABLE IF NOT EXISTS each: a shared table made meanwhile by another load is fine."""
    for table in tables:
        conn.execute(sa.schema.CreateTable(table, if_not_exists=True))


def drop_created(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Drop what a failed run created (MySQL/MariaDB, whose DDL committed at once)."""
    try:
        conn.rollback()
        for table in tables:
            conn.execute(sa.schema.DropTable(table, if_exists=True))
        conn.commit()
    except sa.exc.SQLAlchemyError as exc:  # the run's own error matters more
        names = ", ".join(t.name for t in tables)
        log.warning("could not drop %s, created by the failed run: %s", names, exc)


def add_column(
    conn: sa.Connection, table: sa.Table, column: str, type_: TypeEngine[Any] | None = None
) -> None:
    """ALTER TABLE ... ADD COLUMN `column` (TEXT by default), nullable, identifiers quoted by
    the dialect."""
    preparer = conn.dialect.identifier_preparer
    text = (type_ if type_ is not None else sa.Text()).compile(dialect=conn.dialect)
    conn.exec_driver_sql(
        f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(column)} {text}"
    )


def drop_columns(conn: sa.Connection, table: sa.Table, columns: list[str]) -> None:
    """Drop the columns a failed run added (MySQL/MariaDB, whose DDL committed at once)."""
    if not columns:
        return
    preparer = conn.dialect.identifier_preparer
    try:
        conn.rollback()
        for column in columns:
            conn.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(table)} DROP COLUMN {preparer.quote(column)}"
            )
        conn.commit()
    except sa.exc.SQLAlchemyError as exc:  # the run's own error matters more
        log.warning("could not drop %s, added by the failed run: %s", ", ".join(columns), exc)
