"""JSON HTTP APIs (`kind: rest`): an endpoint on a connection's host, page by page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds.base import Reach, SourceKind

if TYPE_CHECKING:
    from connectors.spec.rest import RestSource


def _label(spec: RestSource) -> str:
    return f"{spec.connection} API {spec.endpoint}"


def _reaches(spec: RestSource) -> Reach:
    return Reach(connections=((spec.connection, "API"),), hosts_of=(spec.connection,))


REST: SourceKind[RestSource] = SourceKind(
    name="rest",
    model_path="connectors.spec.rest:RestSource",
    reader_path="connectors.sources.rest:read",
    label=_label,
    reaches=_reaches,
    sampler_path="connectors.profiling.rest:sample",
    found=("records", "pagination", "params"),
    schemes=frozenset({"http", "https"}),
    origin_is_connection=True,
)
