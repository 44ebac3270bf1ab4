"""SQLAlchemy tables for DDL: the target, its rejects, the run records and the state.

Both loaders build their CREATE statements from these, so the dialect quotes every
identifier and maps every type; nothing is pasted into SQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from connectors.dialects import dialect_for
from connectors.loaders.base import FAILED_RUNS_TABLE, RUN_KEY, RUNS_TABLE, STATE_TABLE
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
    """`<table>__rejects`: the columns of REJECTS_SCHEMA (`raw` is the row as JSON text)."""
    return sa.Table(
        name,
        metadata,
        sa.Column("run_id", _KEY, nullable=False),
        sa.Column("row_number", sa.BigInteger()),
        sa.Column("rule", _KEY, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        schema=schema,
    )


def runs_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """One row per committed load; its key makes a rerun of the same run a no-op."""
    return sa.Table(
        RUNS_TABLE,
        metadata,
        *_run_columns(metadata, key=True),
        *(
            sa.Column(n, sa.BigInteger(), nullable=False)
            for n in ("rows_loaded", "inserted", "updated")
        ),
        # Added after the first release: a table created before them gets them by
        # `added_columns`.
        sa.Column("rows_filtered", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("watermark_before", sa.Text()),
        sa.Column("watermark_after", sa.Text()),
        # What the stream's contract settled, as JSON: {"added": [column, ...], ...}.
        sa.Column("schema_drift", sa.Text()),
        schema=schema,
    )


def failed_runs_table(metadata: sa.MetaData, schema: str | None) -> sa.Table:
    """One row per failed attempt of a stream run (`connectors.loaders.failed`).

    No key: each attempt is a row of its own (an Airflow task may fail, be retried and fail
    again), and writing one never needs more than INSERT.
    """
    return sa.Table(
        FAILED_RUNS_TABLE,
        metadata,
        *_run_columns(metadata, key=False),
        sa.Column("rows_filtered", sa.BigInteger(), nullable=False),
        sa.Column("watermark_before", sa.Text()),
        sa.Column("error", sa.Text(), nullable=False),
        schema=schema,
    )


def _run_columns(metadata: sa.MetaData, *, key: bool) -> list[sa.Column[Any]]:
    """What a record of a committed load and of a failed attempt both hold."""
    return [
        *(sa.Column(name, _KEY, primary_key=key, nullable=False) for name in RUN_KEY),
        sa.Column("target_table", _KEY, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", _timestamp(metadata), nullable=False),
        sa.Column("finished_at", _timestamp(metadata), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False)
            for name in ("rows_read", "rows_rejected")
        ),
    ]


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
    """Watermarks per (pipeline, stream, key), written in the load's transaction."""
    return sa.Table(
        STATE_TABLE,
        metadata,
        sa.Column("pipeline", _KEY, primary_key=True),
        sa.Column("stream", _KEY, primary_key=True),
        sa.Column("key", _KEY, primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", _timestamp(metadata), nullable=False),
        schema=schema,
    )


def new_metadata(dialect: str) -> sa.MetaData:
    """A MetaData that remembers which dialect its tables are for."""
    metadata = sa.MetaData()
    metadata.info["dialect"] = dialect
    return metadata


def _timestamp(metadata: sa.MetaData) -> TypeEngine[Any]:
    return sql_type(ColumnType("timestamptz"), metadata.info["dialect"])
