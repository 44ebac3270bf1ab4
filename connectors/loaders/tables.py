"""SQLAlchemy tables for DDL: the target, its rejects, the run records and the state.

The SQLAlchemy loaders (generic, PostgreSQL) build their CREATE statements from these, so
the dialect quotes every identifier and maps every type; nothing is pasted into SQL. The
bookkeeping tables' columns are `records`', which the native loaders (DuckDB, SQLite) read
too.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from connectors.dialects import dialect_for
from connectors.loaders import records
from connectors.loaders.base import FAILED_RUNS_TABLE, RUNS_TABLE, STATE_TABLE
from connectors.loaders.prepare import Extract
from connectors.types import ColumnType

_KEY = sa.String(255)
"""Key-sized text: MySQL/MariaDB cannot index an unbounded TEXT column."""


def sql_type(ctype: ColumnType, dialect: str, key: bool = False) -> TypeEngine[Any]:
    """The column type a spec type gets when dagsmith creates the table (the dialect's
    `ddl_type`)."""
    return dialect_for(dialect).ddl_type(ctype, key)


def target_table(
    metadata: sa.MetaData, schema: str | None, name: str, extract: Extract, keys: list[str]
) -> sa.Table:
    """The target as dagsmith creates it: the extract's types, the upsert keys as its
    primary key, NOT NULL on `extract.not_null`, and nothing else (no default, no sequence).

    Never an auto-increment key: MySQL would turn a loaded 0 into the next counter value.
    """
    dialect = metadata.info["dialect"]
    columns = [
        sa.Column(
            col,
            sql_type(ctype, dialect, col in keys),
            primary_key=col in keys,
            nullable=col not in extract.not_null and col not in keys,
            autoincrement=False,
        )
        for col, ctype in extract.types.items()
    ]
    return sa.Table(name, metadata, *columns, schema=schema)


def rejects_table(metadata: sa.MetaData, schema: str | None, name: str) -> sa.Table:
    """`<table>__rejects` (`records.REJECTS`)."""
    return _built(metadata, schema, name, records.REJECTS)


def runs_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """`records.RUNS`; a table created before one of its columns gets it by `added_columns`."""
    return _built(metadata, schema, RUNS_TABLE, records.RUNS)


def failed_runs_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """`records.FAILED_RUNS` (`connectors.loaders.failed`)."""
    return _built(metadata, schema, FAILED_RUNS_TABLE, records.FAILED_RUNS)


def _built(
    metadata: sa.MetaData, schema: str | None, name: str, columns: tuple[records.Column, ...]
) -> sa.Table:
    kinds: dict[str, TypeEngine[Any]] = {
        "key": _KEY,
        "mode": sa.String(16),
        "bigint": sa.BigInteger(),
        "text": sa.Text(),
        "time": sql_type(ColumnType("timestamptz"), metadata.info["dialect"]),
    }
    return sa.Table(
        name,
        metadata,
        *(
            sa.Column(
                c.name,
                kinds[c.kind],
                primary_key=c.key,
                nullable=c.nullable,
                server_default=c.default,
            )
            for c in columns
        ),
        schema=schema,
    )


def added_columns(
    table: sa.Table, existing: set[str], dialect: Dialect, *, if_not_exists: bool = False
) -> list[str]:
    """ALTER TABLE statements adding the columns of `table` that an older table lacks.

    `if_not_exists` (PostgreSQL) lets two runs upgrading the same table at once both pass.
    """
    name = dialect.identifier_preparer.format_table(table)
    compiler = dialect.ddl_compiler(dialect, sa.schema.CreateTable(table))
    guard = "IF NOT EXISTS " if if_not_exists else ""
    return [
        f"ALTER TABLE {name} ADD COLUMN {guard}{compiler.get_column_specification(column)}"
        for column in table.columns
        if column.name not in existing
    ]


def state_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """`records.STATE`: watermarks, written in the load's transaction."""
    return _built(metadata, schema, STATE_TABLE, records.STATE)


def new_metadata(dialect: str) -> sa.MetaData:
    """A MetaData that remembers which dialect its tables are for."""
    metadata = sa.MetaData()
    metadata.info["dialect"] = dialect
    return metadata
