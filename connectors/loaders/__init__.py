"""Loaders: one per target database, named by the URL's dialect (`Dialect.loader_path`).

PostgreSQL, DuckDB and SQLite have loaders of their own (SQLite's on sqlite3 alone, with
DuckDB's flow: `native`); every other database gets the generic SQLAlchemy loader
(`connectors.loaders.sql`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.dialects import dialect_for
from connectors.loaders.base import Loader, LoadJob, LoadResult

if TYPE_CHECKING:
    from connectors.dialects.base import Address


def loader_for(url: Address) -> Loader:
    """The loader for a target URL (`postgresql+psycopg2://...`, `mysql+pymysql://...`)."""
    return dialect_for(url).loader(url)


__all__ = ["LoadJob", "LoadResult", "Loader", "loader_for"]
