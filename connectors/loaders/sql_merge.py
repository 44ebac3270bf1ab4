"""Statements of the generic loader, built with SQLAlchemy Core (the upsert is the
dialect's: `Dialect.upsert`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from connectors.loaders.prepare import SEQ, TargetColumn


def family(sql_type: sa.types.TypeEngine[Any]) -> str:
    """The family of a reflected column type, to compare with the extract's types."""
    checks: list[tuple[type[sa.types.TypeEngine[Any]], str]] = [
        (sa.Boolean, "bool"),
        (sa.Integer, "int"),
        (sa.Float, "float"),
        (sa.Numeric, "numeric"),
        (sa.DateTime, "timestamp"),
        (sa.Date, "date"),
        (sa.JSON, "json"),
        (sa.String, "text"),
    ]
    return next((name for kind, name in checks if isinstance(sql_type, kind)), "other")


def target_column(column: Mapping[str, Any]) -> TargetColumn:
    """An Inspector column as a TargetColumn."""
    required = not column["nullable"] and column.get("default") is None
    return TargetColumn(column["name"], str(column["type"]), family(column["type"]), required)


def dml_table(
    name: str, schema: str | None, columns: dict[str, sa.types.TypeEngine[Any]]
) -> sa.TableClause:
    """A light table for inserts: JSON columns bind text, since the rows already hold JSON."""
    return sa.table(
        name,
        *(sa.column(n, sa.Text() if isinstance(t, sa.JSON) else t) for n, t in columns.items()),
        schema=schema,
    )


def dedupe(conn: sa.Connection, stage: sa.Table, passes: list[tuple[list[str], str]]) -> int:
    """For each (keys, keep) pass, delete the staged rows that a later (keep last) or an
    earlier (keep first) staged row of the same keys replaces; returns the rows deleted.

    An index on the keys and the staging order makes each row one probe: grouping a million
    keys instead spills MariaDB's temporary table to disk, and took seconds per statement.
    """
    deleted = 0
    for number, (keys, keep) in enumerate(passes):
        columns = [stage.c[k] for k in keys]
        # MySQL indexes a prefix of text; the probe still compares whole values.
        prefixes = {c.name: 64 for c in columns if isinstance(c.type, (sa.Text, sa.JSON))}
        sa.Index(f"{stage.name}_{number}", *columns, stage.c[SEQ], mysql_length=prefixes).create(
            conn
        )
        other = stage.alias("other")
        order = other.c[SEQ] > stage.c[SEQ] if keep == "last" else other.c[SEQ] < stage.c[SEQ]
        same = (other.c[k].is_not_distinct_from(stage.c[k]) for k in keys)
        deleted += conn.execute(sa.delete(stage).where(*same, order)).rowcount
    return deleted


def source(stage: sa.TableClause, names: list[str]) -> Any:
    """The staged rows to merge (deduplicated in place: `dedupe`)."""
    # SQLite reads `INSERT ... SELECT ... ON CONFLICT` ambiguously without a WHERE.
    return sa.select(*(stage.c[n] for n in names)).where(sa.true())


def existing(conn: sa.Connection, target: sa.TableClause, rows: Any, keys: list[str]) -> int:
    """The rows whose key exists in the target, before the merge."""
    _, found = _found(target, rows, keys)
    return int(conn.execute(found).scalar_one())


def upsert_counts(
    conn: sa.Connection, target: sa.TableClause, rows: Any, keys: list[str]
) -> tuple[int, int]:
    """(rows whose key exists, rows among them that differ), before the merge."""
    src, found = _found(target, rows, keys)
    rest = [c.name for c in src.c if c.name not in keys]
    if not rest:
        return int(conn.execute(found).scalar_one()), 0
    differs = sa.or_(*(_exact(src.c[c]).is_distinct_from(_exact(target.c[c])) for c in rest))
    existing, changed = (int(conn.execute(q).scalar_one()) for q in (found, found.where(differs)))
    return existing, changed


def _found(target: sa.TableClause, rows: Any, keys: list[str]) -> tuple[Any, Any]:
    """The rows as a subquery, and the count of those whose key exists in the target."""
    src = rows.subquery()
    joined = src.join(target, sa.and_(*(src.c[k] == target.c[k] for k in keys)))
    return src, sa.select(sa.func.count()).select_from(joined)


def _exact(column: Any) -> Any:
    """Compare text byte for byte: MySQL's default collations call 'B' and 'b' equal."""
    if isinstance(column.type, sa.String):
        return sa.cast(column, sa.LargeBinary()).label(None)
    return column
