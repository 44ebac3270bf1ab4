"""SQL databases (`kind: sql`): a table or one checked SELECT on a connection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors.errors import SpecError
from connectors.kinds.base import Reach, SourceKind

if TYPE_CHECKING:
    from connectors.connections import Connection
    from connectors.lineage.names import DatasetName
    from connectors.spec.sql import SqlSource


def _label(spec: SqlSource) -> str:
    return f"{spec.connection}.{spec.table}" if spec.table else f"{spec.connection} query"


def _reaches(spec: SqlSource) -> Reach:
    query = ((spec.query, "query"),) if spec.query is not None else ()
    return Reach(connections=((spec.connection, "source database"),), verbatim=query)


def _datasets(
    spec: SqlSource, connection: Connection | None, _base_dir: Path
) -> tuple[DatasetName, ...]:
    """The table, or the tables the query reads (found by sqlglot), on the database."""
    import sqlglot
    from sqlglot import exp

    from connectors.connections import database_url
    from connectors.dialects import dialect_for

    if connection is None:
        raise SpecError(f"{spec.connection}: a sql source needs its connection")
    url = database_url(connection)
    dialect = dialect_for(url)
    if spec.table is not None:
        return (dialect.dataset(url, spec.table),)
    parsed = sqlglot.parse_one(spec.query or "", read=dialect.sqlglot or None)
    ctes = {cte.alias_or_name for cte in parsed.find_all(exp.CTE)}
    tables = dict.fromkeys(
        ".".join(part for part in (found.db, found.name) if part)
        for found in parsed.find_all(exp.Table)
        if found.name not in ctes
    )
    return tuple(dialect.dataset(url, name) for name in tables)


SQL: SourceKind[SqlSource] = SourceKind(
    name="sql",
    model_path="connectors.spec.sql:SqlSource",
    reader_path="connectors.sources.sql:read",
    label=_label,
    reaches=_reaches,
    sampler_path="connectors.profiling.sample:sql",
    datasets=_datasets,
)
