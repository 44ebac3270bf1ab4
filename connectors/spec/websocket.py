"""The WebSocket feed source spec: where to connect, what to subscribe to, how long to read.

Like a REST source's, the spec holds no URL and no secret: the connection gives the
`ws://` or `wss://` base URL and the credentials. A feed has no end, so every read is
bounded: by `max_seconds` always, and by `max_messages` unless it is null.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from connectors.spec.base import ConnectionId, SourceModel, SpecModel
from connectors.spec.rest import SECRET_NAME, JsonPath, relative_path

Message = dict[str, Any] | list[Any]
"""One JSON message: an object or an array."""


def _no_credentials(value: Any, where: str) -> None:
    """Refuse a key that names a credential anywhere in a value (objects within arrays too)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        inner = f"{where}.{key}" if isinstance(value, dict) else f"{where}[{key}]"
        if isinstance(key, str) and SECRET_NAME.search(key):
            raise ValueError(
                f"{inner} looks like a credential; secrets live in the connection (its "
                "password, login or extra `token`) and are sent as the Authorization header"
            )
        if isinstance(item, dict | list):
            _no_credentials(item, inner)


class Reconnect(SpecModel):
    """Reconnecting after the connection drops: jittered exponential backoff, bounded."""

    attempts: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Reconnects in a row that may fail before the run fails; a connection "
        "that delivers a message starts the count again. 0: fail at the first drop.",
    )
    backoff: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Base of the backoff in seconds (waits up to backoff, 2x, 4x, ...).",
    )
    max_wait: float = Field(default=30.0, gt=0, le=600, description="Longest wait in seconds.")


class WebSocketSource(SourceModel):
    """Records from the JSON messages a WebSocket feed sends during a bounded read."""

    kind: Literal["websocket"]
    connection: ConnectionId = Field(
        description="Connection id giving the base URL (ws:// or wss://, host, port and an "
        "optional path, e.g. wss://feeds.example.com/v1) and the credentials: a token (the "
        "password, the extra `token`, or a login alone as in wss://TOKEN@host) is sent as "
        "`Authorization: Bearer`, a login and password as Basic. Secrets never go in the spec."
    )
    endpoint: str = Field(
        default="",
        max_length=1000,
        description="Path appended to the base URL, e.g. 'trades' or 'v2/stream'; empty: the "
        "base URL itself. Relative only: no scheme, host or '..'.",
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Query parameters of the URL (no credentials)."
    )
    subscribe: dict[str, Any] | list[Message] | None = Field(
        default=None,
        description="Sent as JSON text once connected (and again after each reconnect): an "
        "object is one message; a list is a list of messages, each an object or an array, "
        "sent in order. No credentials.",
    )
    records: JsonPath = Field(
        default="$",
        description="JSONPath selecting the records in each message, e.g. '$.data[*]'. A "
        "path that selects one array takes its elements; a message it selects nothing in "
        "(an acknowledgement, a heartbeat) gives no record.",
    )
    flatten: Literal["underscore", "json"] = Field(
        default="underscore",
        description="Nested objects: 'underscore' makes {'a': {'b': 1}} a column 'a_b'; "
        "'json' keeps each nested object as a JSON text column. Arrays are JSON text.",
    )
    max_messages: int | None = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description="Stop after this many messages (any kind, rejected ones too); null: "
        "read until max_seconds.",
    )
    max_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="Stop reading after this many seconds, whatever was received: a quiet "
        "feed ends the run with no rows, never a hang.",
    )
    ping_interval: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="Seconds between keepalive pings; a pong that does not come within as "
        "long counts as a dropped connection.",
    )
    connect_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to wait for the opening handshake."
    )
    reconnect: Reconnect = Field(default_factory=Reconnect)

    @field_validator("endpoint")
    @classmethod
    def _relative_endpoint(cls, value: str) -> str:
        return relative_path(value, "endpoint") if value else value

    @field_validator("params", "subscribe")
    @classmethod
    def _no_secrets(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            _no_credentials(value, str(info.field_name))
        return value

    def messages(self) -> list[Message]:
        """The subscribe messages, in the order they are sent."""
        if self.subscribe is None:
            return []
        return [self.subscribe] if isinstance(self.subscribe, dict) else list(self.subscribe)
