"""SQL databases (`kind: sql`): a table or one checked SELECT on a connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds.base import Reach, SourceKind

if TYPE_CHECKING:
    from connectors.spec.sql import SqlSource


def _label(spec: SqlSource) -> str:
    return f"{spec.connection}.{spec.table}" if spec.table else f"{spec.connection} query"


def _reaches(spec: SqlSource) -> Reach:
    query = ((spec.query, "query"),) if spec.query is not None else ()
    return Reach(connections=((spec.connection, "source database"),), verbatim=query)


SQL: SourceKind[SqlSource] = SourceKind(
    name="sql",
    model_path="connectors.spec.sql:SqlSource",
    reader_path="connectors.sources.sql:read",
    label=_label,
    reaches=_reaches,
    sampler_path="connectors.profiling.sample:sql",
)
