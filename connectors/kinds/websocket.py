"""WebSocket feeds (`kind: websocket`): the JSON messages a feed sends for a bounded while."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds.base import Reach, SourceKind

if TYPE_CHECKING:
    from connectors.spec.websocket import WebSocketSource


def _label(spec: WebSocketSource) -> str:
    return f"{spec.connection} feed {spec.endpoint}".rstrip()


def _reaches(spec: WebSocketSource) -> Reach:
    return Reach(connections=((spec.connection, "feed"),), hosts_of=(spec.connection,))


WEBSOCKET: SourceKind[WebSocketSource] = SourceKind(
    name="websocket",
    model_path="connectors.spec.websocket:WebSocketSource",
    reader_path="connectors.sources.websocket:read",
    label=_label,
    reaches=_reaches,
    sampler_path="connectors.profiling.websocket:sample",
)
