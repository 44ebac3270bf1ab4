"""WebSocket feeds (`kind: websocket`): the JSON messages a feed sends for a bounded while."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from connectors.errors import SpecError
from connectors.kinds.base import Reach, SourceKind
from connectors.kinds.streams import bounds
from connectors.lineage import names

if TYPE_CHECKING:
    from connectors.connections import Connection
    from connectors.spec.websocket import WebSocketSource


def _label(spec: WebSocketSource) -> str:
    return f"{spec.connection} feed {spec.endpoint}".rstrip()


def _reaches(spec: WebSocketSource) -> Reach:
    return Reach(connections=((spec.connection, "feed"),), hosts_of=(spec.connection,))


def _from_url(url: str, connection: str | None) -> dict[str, Any]:
    """`wss://host/v1/trades?depth=5` on a connection holding `wss://host`: the endpoint
    and params; the connection's base URL comes first when the feed is read."""
    if connection is None:
        raise SpecError(
            f"{url}: a feed needs the connection of its host",
            hint="add --connection ID, with AIRFLOW_CONN_<ID>=wss://host",
        )
    parts = urlsplit(url)
    fields: dict[str, Any] = {"connection": connection, "endpoint": parts.path.strip("/")}
    if parts.query:
        fields["params"] = dict(parse_qsl(parts.query, keep_blank_values=True))
    return fields


def _datasets(
    spec: WebSocketSource, connection: Connection | None, _base_dir: Path
) -> tuple[names.DatasetName, ...]:
    """The feed's endpoint under the connection's origin (`wss://host`, no credentials)."""
    from connectors.sources.rest import connection_url

    if connection is None:
        raise SpecError(f"{spec.connection}: a feed needs its connection")
    origin = connection_url(connection)
    return (names.endpoint(f"{origin.scheme}://{origin.netloc}{origin.path}", spec.endpoint),)


WEBSOCKET: SourceKind[WebSocketSource] = SourceKind(
    name="websocket",
    model_path="connectors.spec.websocket:WebSocketSource",
    reader_path="connectors.sources.websocket:read",
    label=_label,
    reaches=_reaches,
    sampler_path="connectors.profiling.websocket:sample",
    schemes=frozenset({"ws", "wss"}),
    from_url=_from_url,
    origin_is_connection=True,
    hints=bounds,
    watermarks=False,
    datasets=_datasets,
)
