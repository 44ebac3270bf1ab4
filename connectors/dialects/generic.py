"""Any other database SQLAlchemy has a dialect for: read and loaded on common ground.

No read-only session, no upsert, DDL taken as committing at once, PostgreSQL's
identifier limit (the strictest common one).
"""

from __future__ import annotations

from connectors.dialects.base import Dialect

SCHEMES = frozenset({"mssql", "oracle", "snowflake"})
"""Schemes of databases without a module here that `dagsmith profile` still takes as URLs."""
_SQLGLOT = {"mssql": "tsql"}


def other(name: str) -> Dialect:
    """The dialect of a SQLAlchemy backend that has no module of its own."""
    import sqlglot  # 0.1 s of every start-up otherwise, for databases few runs meet

    sqlglot_name = _SQLGLOT.get(name, name)
    attributes = {
        "name": name,
        "label": name,
        "schemes": frozenset({name}),
        "driver": name,
        "sqlglot": sqlglot_name if sqlglot.Dialect.get(sqlglot_name) else "",
    }
    dialect: Dialect = type(f"Other_{name}", (Dialect,), attributes)()
    return dialect
