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


def source(stage: sa.TableClause, names: list[str], dedupes: list[tuple[list[str], str]]) -> Any:
    """The staged rows to merge: for each (keys, keep) pass, one row per key by staging order."""
    rows: sa.FromClause = stage
    for keys, keep in dedupes:
        pick = sa.func.max if keep == "last" else sa.func.min
        kept = sa.select(pick(rows.c[SEQ])).group_by(*(rows.c[k] for k in keys))
        rows = sa.select(rows).where(rows.c[SEQ].in_(kept)).subquery()
    # SQLite reads `INSERT ... SELECT ... ON CONFLICT` ambiguously without a WHERE.
    return sa.select(*(rows.c[n] for n in names)).where(sa.true())


def upsert_counts(
    conn: sa.Connection, target: sa.TableClause, rows: Any, keys: list[str]
) -> tuple[int, int]:
    """(rows whose key exists, rows among them that differ), before the merge."""
    src = rows.subquery()
    joined = src.join(target, sa.and_(*(src.c[k] == target.c[k] for k in keys)))
    existing = sa.select(sa.func.count()).select_from(joined)
    rest = [c.name for c in src.c if c.name not in keys]
    if not rest:
        return int(conn.execute(existing).scalar_one()), 0
    differs = sa.or_(*(_exact(src.c[c]).is_distinct_from(_exact(target.c[c])) for c in rest))
    counts = (existing, existing.where(differs))
    found, changed = (int(conn.execute(query).scalar_one()) for query in counts)
    return found, changed


def _exact(column: Any) -> Any:
    """Compare text byte for byte: MySQL's default collations call 'B' and 'b' equal."""
    if isinstance(column.type, sa.String):
        return sa.cast(column, sa.LargeBinary()).label(None)
    return column
