"""PostgreSQL: psycopg2 through SQLAlchemy; Arrow-native bulk paths.

The loader (`connectors.loaders.postgres`) stages rows with binary COPY (encoded from
Arrow by pgpq) and merges with `INSERT ... ON CONFLICT`; the SQL source reads through
ADBC when the URL's driver is libpq-based (`connectors.sources.sql_adbc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.dialects.base import STRING, Dialect, decimal_or_text
from connectors.types import ColumnType

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.types import TypeEngine

_OIDS = {
    16: ColumnType("boolean"),
    20: ColumnType("bigint"),
    21: ColumnType("integer"),
    23: ColumnType("integer"),
    26: ColumnType("bigint"),
    700: ColumnType("float"),
    701: ColumnType("float"),
    1082: ColumnType("date"),
    1114: ColumnType("timestamp"),
    1184: ColumnType("timestamptz"),
    114: ColumnType("json"),
    3802: ColumnType("json"),
}
_NUMERIC = 1700
SCHEMA_LOCK = "dagsmith-schema"
"""Prefix of the advisory lock a load takes to create a schema and its shared tables."""


class Postgres(Dialect):
    """PostgreSQL."""

    name = "postgresql"
    label = "PostgreSQL"
    schemes = frozenset({"postgresql", "postgres"})
    airflow_types: ClassVar[dict[str, str]] = {"postgresql": "postgres"}
    driver = "postgresql+psycopg2"
    driver_modules = ("psycopg2", "psycopg", "adbc_driver_postgresql", "adbc_driver_manager")
    connect_timeout_args: ClassVar[dict[str, str]] = {"psycopg2": "connect_timeout"}
    transactional_ddl = True
    max_identifier = 63  # longer names are truncated, so two could collide
    sqlglot = "postgres"
    read_only = ("SET TRANSACTION READ ONLY",)
    # Connection, serialization failure, deadlock, resources, lock timeout, shutdown, I/O.
    transient_prefixes = ("08", "40001", "40P01", "53", "55P03", "57P01", "57P02", "57P03", "58000")
    conflict_codes = frozenset({"40001", "40P01"})
    # Built on libpq: their URLs' query options are libpq's, as ADBC's are.
    arrow_drivers = frozenset({"psycopg2", "psycopg"})
    loader_path = "connectors.loaders.postgres:PostgresLoader"
    rights_path = "connectors.loaders.rights:postgres_missing"
    lineage_scheme = "postgres"
    default_port = 5432
    default_schema = "public"

    def ddl_type(self, ctype: ColumnType, key: bool = False) -> TypeEngine[Any]:
        """JSON is stored as JSONB."""
        # SQLAlchemy's PostgreSQL dialect loads with a PostgreSQL engine, not at every start-up.
        from sqlalchemy.dialects import postgresql

        return postgresql.JSONB() if ctype.name == "json" else super().ddl_type(ctype, key)

    def described_type(self, column: Sequence[Any]) -> ColumnType:
        """Type OIDs; numeric with its precision and scale."""
        code, precision, scale = column[1], column[4], column[5]
        if not isinstance(code, int):
            return STRING
        if code == _NUMERIC:
            return decimal_or_text(precision, scale)
        return _OIDS.get(code, STRING)

    def row_estimate(self, schema: str, name: str, quoted: str) -> str | None:
        """`pg_class.reltuples`: the planner's estimate, no scan."""
        regclass = quoted.replace("'", "")
        return f"SELECT reltuples::bigint AS n FROM pg_class WHERE oid = to_regclass('{regclass}')"

    def sample(self, columns: str, quoted: str, percent: float) -> str | None:
        """`TABLESAMPLE SYSTEM`: whole pages picked at random, no scan, no sort."""
        return f"SELECT {columns} FROM {quoted} TABLESAMPLE SYSTEM ({percent:.6f})"

    def lock_schema(self, conn: sa.Connection, schema: str | None) -> None:
        """The advisory lock under which loads create a schema and its shared tables
        (`connectors.loaders.postgres_ddl`): two creations at once collide in the catalog."""
        import sqlalchemy as sa

        conn.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(hashtextextended("
                ":lock || chr(31) || coalesce(CAST(:schema AS text), current_schema()), 0))"
            ),
            {"lock": SCHEMA_LOCK, "schema": schema},
        )

    def libpq_url(self, url: sa.URL) -> sa.URL:
        """The URL as libpq reads it (no SQLAlchemy driver name)."""
        return url.set(drivername="postgresql")


POSTGRES = Postgres()
