"""Loaders: one per target database, named by the URL's dialect (`Dialect.loader_path`).

PostgreSQL and DuckDB have loaders of their own; every other database gets the generic
SQLAlchemy loader (`connectors.loaders.sql`).
"""

from __future__ import annotations

import sqlalchemy as sa

from connectors.dialects import dialect_for
from connectors.loaders.base import Loader, LoadJob, LoadResult


def loader_for(url: sa.URL) -> Loader:
    """The loader for a target URL (`postgresql+psycopg2://...`, `mysql+pymysql://...`)."""
    return dialect_for(url).loader(url)


__all__ = ["LoadJob", "LoadResult", "Loader", "loader_for"]
