"""The SQL database source: a whole table, or one read-only query."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from connectors.spec.base import ColumnKey, ConnectionId, SourceModel, TableName


class SqlSource(SourceModel):
    """Rows of a table or of a SELECT query in a database reached by a connection id.

    Exactly one of `table` and `query` is set. The query is checked before it runs: one
    SELECT statement only, and it runs in a read-only transaction where the database has one.
    """

    kind: Literal["sql"]
    connection: ConnectionId = Field(
        description=(
            "Id of the database connection to read from (PostgreSQL, MySQL/MariaDB, SQLite or "
            "any SQLAlchemy URL). Its URL is set outside the spec, in the Airflow connection or "
            "the environment variable AIRFLOW_CONN_<ID> (e.g. AIRFLOW_CONN_SHOP for 'shop')."
        )
    )
    table: TableName | None = Field(
        default=None,
        description=(
            "Table (or view) to read whole: 'orders' or 'schema.orders'. Each part is letters, "
            "digits and _; a name with capital letters must match the database's case exactly."
        ),
    )
    query: str | None = Field(
        default=None,
        min_length=1,
        max_length=100_000,
        description=(
            "A single SELECT statement to read instead of a table (joins, CTEs and UNIONs are "
            "fine). Anything that could change data is refused: INSERT/UPDATE/DELETE, DDL, "
            "SELECT INTO, FOR UPDATE, data-modifying CTEs, or more than one statement."
        ),
    )
    columns: list[ColumnKey] | None = Field(
        default=None,
        min_length=1,
        description="With `table`: read only these columns, in this order. Default: all of them.",
    )

    @model_validator(mode="after")
    def _table_or_query(self) -> Self:
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of `table` and `query`")
        if self.columns is not None and self.table is None:
            raise ValueError("`columns` applies to `table` only; list the columns in the query")
        if self.columns is not None and len(set(self.columns)) != len(self.columns):
            raise ValueError("`columns` names a column twice")
        return self

    @property
    def shown(self) -> str:
        """How errors and logs name this source: its connection and table, never a secret."""
        return f"connection {self.connection!r}, " + (
            f"table {self.table}" if self.table else "query"
        )
