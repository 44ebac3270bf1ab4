"""JSON HTTP APIs (`kind: rest`): an endpoint on a connection's host, page by page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors.errors import SpecError
from connectors.kinds.base import Reach, SourceKind
from connectors.lineage import names

if TYPE_CHECKING:
    from connectors.connections import Connection
    from connectors.spec.rest import RestSource


def _label(spec: RestSource) -> str:
    return f"{spec.connection} API {spec.endpoint}"


def _reaches(spec: RestSource) -> Reach:
    return Reach(connections=((spec.connection, "API"),), hosts_of=(spec.connection,))


def _datasets(
    spec: RestSource, connection: Connection | None, _base_dir: Path
) -> tuple[names.DatasetName, ...]:
    """The endpoint under the connection's base URL (which holds no login or token)."""
    from connectors.sources.rest import base_url

    if connection is None:
        raise SpecError(f"{spec.connection}: a rest source needs its connection")
    return (names.endpoint(base_url(connection), spec.endpoint),)


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
    datasets=_datasets,
)
