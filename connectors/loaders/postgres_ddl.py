"""PostgreSQL: create what a load needs, inside the load's own transaction, without races.

PostgreSQL's DDL is transactional, so the schema, the target, its rejects and the
bookkeeping tables are created in the transaction that writes the rows: a run that fails
leaves the catalog as it found it. Only what is missing is created (the catalog says
what exists), so a role without CREATE on the database loads into its own schema, and a
role without CREATE on the schema loads into tables made for it.

Two loads creating one table at once would collide in the catalog (a duplicate
`pg_type` row), so DDL runs under transaction-scoped advisory locks: one per target
table, taken by every load of that table (writers of one table take turns, so they never
deadlock on each other's rows), and one per schema for the tables its streams share.
Locks are taken in that order, always. A writer outside dagsmith can still deadlock with
a merge: the merge then rolls back to a savepoint taken before it and runs again, a
bounded number of times (`retrying`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.schema import CreateSchema, CreateTable, DDLElement

from connectors import dberrors
from connectors.dialects.postgres import POSTGRES, SCHEMA_LOCK
from connectors.errors import DagsmithError
from connectors.loaders import tables
from connectors.loaders.base import RUNS_TABLE, STATE_TABLE, LoadJob
from connectors.loaders.postgres_driver import PgSession
from connectors.loaders.postgres_sql import DIALECT, TARGET_COLUMNS, qualify, quote
from connectors.loaders.prepare import INTERVAL, Extract, rejects_table, split_table
from connectors.runtime import log
from connectors.types import ColumnType

LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
# The catalog read with the statement's snapshot, not through to_regclass: its cache is not
# refreshed by an advisory lock, so a schema another load just committed would look absent.
# Each placeholder appears once, in order (the psycopg2 session turns `$n` into `%s`).
_REL = (
    "EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = (SELECT nsp FROM s) AND c.relname = ${n}::text)"
)
_EXISTING = (
    "WITH s AS (SELECT coalesce($1::text, current_schema()) AS nsp) "
    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = (SELECT nsp FROM s)), "
    + ", ".join(_REL.replace("{n}", str(n)) for n in range(2, 6))
)
_SCHEMA_NAME = "SELECT coalesce($1::text, current_schema())"
T = TypeVar("T")
CAN_STAGE = "SELECT has_schema_privilege(coalesce($1::text, current_schema()), 'CREATE')"


@dataclass(frozen=True)
class Created:
    """What this load created (uncommitted until its transaction commits)."""

    schema: bool
    tables: tuple[str, ...]


def lock_table(session: PgSession, table: str) -> None:
    """Take the target table's lock: every dagsmith load of the table takes it first."""
    schema, name = split_table(table)
    ((resolved,),) = session.query(_SCHEMA_NAME, [schema])
    session.query(LOCK, [f"dagsmith-table\x1f{resolved}\x1f{name}"])


def create_missing(session: PgSession, job: LoadJob, extract: Extract) -> Created:
    """Create, in the open transaction, what the load needs and the catalog lacks.

    Call it under the table's lock (`lock_table`); the schema's lock is taken here when
    a shared table or the schema itself is missing.
    """
    schema, name = split_table(job.load.table)
    missing = _missing(session, schema, name)
    if {"schema", RUNS_TABLE, STATE_TABLE} & set(missing):
        ((resolved,),) = session.query(_SCHEMA_NAME, [schema])
        session.query(LOCK, [f"{SCHEMA_LOCK}\x1f{resolved}"])
        missing = _missing(session, schema, name)  # another load may have made them meanwhile
    metadata = tables.new_metadata(POSTGRES.name)
    made = {
        name: tables.target_table(metadata, schema, name, extract, job.load.keys),
        rejects_table(name, POSTGRES): tables.rejects_table(
            metadata, schema, rejects_table(name, POSTGRES)
        ),
        RUNS_TABLE: tables.runs_table(metadata, schema),
        STATE_TABLE: tables.state_table(metadata, schema),
    }
    statements: list[DDLElement] = [CreateSchema(schema)] if schema and "schema" in missing else []
    statements += [CreateTable(made[t]) for t in made if t in missing]
    for statement in statements:
        session.query(str(statement.compile(dialect=DIALECT)))
    if INTERVAL in extract.types and name not in missing:
        # A table made before the load keyed its rows by interval: add the key column.
        target = qualify(schema, name)
        session.query(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {quote(INTERVAL)} text")
    if RUNS_TABLE not in missing:
        # A runs table of an older dagsmith lacks newer counters (rows_filtered).
        found = {row[0] for row in session.query(TARGET_COLUMNS, [qualify(schema, RUNS_TABLE)])}
        for alter in tables.added_columns(made[RUNS_TABLE], found, DIALECT, if_not_exists=True):
            session.query(alter)
    return Created("schema" in missing, tuple(t for t in made if t in missing))


def _missing(session: PgSession, schema: str | None, name: str) -> list[str]:
    """Which of the schema, target, rejects, runs and state tables do not exist yet."""
    names = [name, rejects_table(name, POSTGRES), RUNS_TABLE, STATE_TABLE]
    params = [schema, *names]
    ((has_schema, *found),) = session.query(_EXISTING, params)
    missing = [n for n, there in zip(names, found, strict=True) if not there]
    return missing if has_schema or schema is None else ["schema", *missing]


def retrying(session: PgSession, stream: str, step: Callable[[], T]) -> T:
    """Run a merge step under a savepoint; on a deadlock or serialization failure roll back
    to it (the staged rows stay) and run the step again, at most `dberrors.CONFLICT_RETRIES` times.
    """
    for attempt in range(1, dberrors.CONFLICT_RETRIES + 1):
        session.query("SAVEPOINT dagsmith_merge")
        try:
            result = step()
        except DagsmithError as exc:
            if not dberrors.is_conflict(exc.code) or attempt == dberrors.CONFLICT_RETRIES:
                raise
            session.query("ROLLBACK TO SAVEPOINT dagsmith_merge")
            log.warning("%s: the merge met a conflict (%s), attempt %d", stream, exc.code, attempt)
            dberrors.conflict_pause(attempt)
            continue
        session.query("RELEASE SAVEPOINT dagsmith_merge")
        return result
    raise AssertionError("unreachable: the last attempt returns or raises")


def add_columns(session: PgSession, table: str, added: dict[str, ColumnType]) -> None:
    """Add new columns (nullable) in the open transaction: the contract's `add`."""
    schema, name = split_table(table)
    for column, ctype in added.items():
        sql_type = POSTGRES.ddl_type(ctype).compile(dialect=DIALECT)
        session.query(f"ALTER TABLE {qualify(schema, name)} ADD COLUMN {quote(column)} {sql_type}")
