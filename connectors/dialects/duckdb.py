"""DuckDB: the embedded default target; its loader is `connectors.loaders.duckdb`.

The loader drives the `duckdb` package natively (it scans Arrow batches in place) and
holds DuckDB's own type names and merge; this object holds the facts other code asks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.dialects.base import Dialect


class DuckDB(Dialect):
    """DuckDB: a file, schemas, transactional DDL."""

    name = "duckdb"
    label = "DuckDB"
    schemes = frozenset({"duckdb"})
    driver = "duckdb"
    driver_modules = ("duckdb", "_duckdb")
    file_database = True
    sql_source = False  # a target only: `dagsmith profile` does not take its URLs
    reflects = False
    transactional_ddl = True
    max_identifier = None
    sqlglot = "duckdb"
    loader_path = "connectors.loaders.duckdb:DuckDBLoader"
    default_schema = "main"
    read_only_args: ClassVar[dict[str, Any]] = {"read_only": True}

    def is_transient_error(self, exc: BaseException) -> bool:
        """A lock held by another process, or a write conflict with another connection."""
        import duckdb  # the driver loads only when a DuckDB error is read

        locked = isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()
        return locked or isinstance(exc, duckdb.TransactionException)


DUCKDB = DuckDB()
