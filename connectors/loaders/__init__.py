"""Loaders: one per target database, chosen by the SQLAlchemy URL's dialect."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from connectors.loaders.base import Loader, LoadJob, LoadResult


def _postgres(url: sa.URL) -> Loader:
    from connectors.loaders.postgres import PostgresLoader

    return PostgresLoader(url)


def _duckdb(url: sa.URL) -> Loader:
    from connectors.loaders.duckdb import DuckDBLoader

    return DuckDBLoader(url)


def _generic(url: sa.URL) -> Loader:
    from connectors.loaders.sql import SqlLoader

    return SqlLoader(url)


LOADERS: dict[str, Callable[[sa.URL], Loader]] = {"postgresql": _postgres, "duckdb": _duckdb}
"""Dialect name -> loader factory; any other dialect gets the generic SQLAlchemy loader."""


def loader_for(url: sa.URL) -> Loader:
    """The loader for a target URL (`postgresql+psycopg2://...`, `mysql+pymysql://...`)."""
    return LOADERS.get(url.get_backend_name(), _generic)(url)


__all__ = ["LOADERS", "LoadJob", "LoadResult", "Loader", "loader_for"]
