"""The bookkeeping tables' columns (rejects, run records, failed runs, state), described once.

`connectors.loaders.tables` builds SQLAlchemy tables from them; the loaders on a driver
alone (`connectors.loaders.native`) write their DDL from them with the dialect's type names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connectors.loaders.base import FAILED_RUNS_TABLE, RUN_KEY, RUNS_TABLE, STATE_TABLE

Kind = Literal["key", "mode", "bigint", "text", "time"]
"""`key`: key-sized text (MySQL/MariaDB cannot index an unbounded TEXT); `mode`: a load
mode's name; `time`: a zoned timestamp."""


@dataclass(frozen=True)
class Column:
    """A bookkeeping column; `default` is a server default (as SQL text)."""

    name: str
    kind: Kind
    nullable: bool = True
    key: bool = False
    default: str | None = None


def _run_columns(*, key: bool) -> list[Column]:
    """What a record of a committed load and of a failed attempt both hold."""
    return [
        *(Column(name, "key", nullable=False, key=key) for name in RUN_KEY),
        Column("target_table", "key", nullable=False),
        Column("mode", "mode", nullable=False),
        Column("started_at", "time", nullable=False),
        Column("finished_at", "time", nullable=False),
        Column("rows_read", "bigint", nullable=False),
        Column("rows_rejected", "bigint", nullable=False),
    ]


REJECTS = (
    Column("run_id", "key", nullable=False),
    Column("row_number", "bigint"),
    Column("rule", "key", nullable=False),
    Column("reason", "text", nullable=False),
    Column("raw", "text", nullable=False),
)
"""`<table>__rejects`: the columns of REJECTS_SCHEMA (`raw` is the row as JSON text)."""
RUNS = (
    *_run_columns(key=True),
    *(Column(name, "bigint", nullable=False) for name in ("rows_loaded", "inserted", "updated")),
    # Added after the first release: a table created before it gets it with its default.
    Column("rows_filtered", "bigint", nullable=False, default="0"),
    Column("watermark_before", "text"),
    Column("watermark_after", "text"),
    # What the stream's contract settled, as JSON: {"added": [column, ...], ...}.
    Column("schema_drift", "text"),
)
"""One row per committed load; its key makes a rerun of the same run a no-op."""
FAILED_RUNS = (
    *_run_columns(key=False),
    Column("rows_filtered", "bigint", nullable=False),
    Column("watermark_before", "text"),
    Column("error", "text", nullable=False),
)
"""One row per failed attempt of a stream run (`connectors.loaders.failed`). No key: each
attempt is a row of its own, and writing one never needs more than INSERT."""
STATE = (
    Column("pipeline", "key", nullable=False, key=True),
    Column("stream", "key", nullable=False, key=True),
    Column("key", "key", nullable=False, key=True),
    Column("value", "text", nullable=False),
    Column("updated_at", "time", nullable=False),
)
"""Watermarks per (pipeline, stream, key), written in the load's transaction."""
NAMED = {RUNS_TABLE: RUNS, FAILED_RUNS_TABLE: FAILED_RUNS, STATE_TABLE: STATE}
"""The bookkeeping tables of fixed name, by name."""
