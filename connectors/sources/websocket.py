"""WebSocket feeds (`kind: websocket`): the JSON messages a feed sends for a bounded while.

The base URL is the connection's: `AIRFLOW_CONN_FEED=wss://TOKEN@feeds.example.com/v1`
gives `wss://feeds.example.com/v1`, and the token goes in the opening handshake's
`Authorization` header, never in the URL. A run connects to `<base>/<endpoint>`, sends
the `subscribe` messages, and reads until `max_messages` messages or `max_seconds`,
whichever comes first, with keepalive pings. A dropped connection is opened again after a
jittered exponential backoff and subscribed again; too many failures in a row fail the
run. A server that closes normally (code 1000) ends the read. Each message's records
(its `records` JSONPath) are spooled like a REST page's; a message that is not JSON, or
whose records are not objects, goes to the rejects.

A feed has no offsets: a run reads what the feed sends while it runs, and a rerun reads
what it sends then.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlunsplit

import pyarrow as pa
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedOK,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)
from websockets.sync.client import ClientConnection, connect

from connectors.connections import Connection, get_connection
from connectors.errors import SourceError
from connectors.masking import Masker, masked_logs
from connectors.runtime import ReadContext, Rejects
from connectors.sources import quiet_aware
from connectors.sources.http.auth import basic, masker_for
from connectors.sources.http.records import RecordSpool
from connectors.sources.rest import connection_url, query_value, records_in
from connectors.spec.sources import SourceSpec
from connectors.spec.websocket import WebSocketSource

log = logging.getLogger("dagsmith")

_SCHEMES = ("ws", "wss")
_MAX_MESSAGE = 16 << 20
"""The largest message read, in bytes; a larger one fails the run (close code 1009)."""
_ENDED = 1000
_TOO_BIG = 1009
_CLOSE_TIMEOUT = 5.0


class _Dropped(Exception):
    """The connection failed or dropped in a way a reconnect may mend."""


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the records of the messages the feed sends within the spec's bounds."""
    if not isinstance(spec, WebSocketSource):
        raise TypeError(f"the websocket reader cannot read a {spec.kind!r} source")
    conn = get_connection(spec.connection, ctx.project_dir)
    url = feed_url(conn, spec)
    headers, masker = credentials(conn)
    with masked_logs(masker), RecordSpool(spec.flatten) as spool:
        sink = _Sink(spec, spool, ctx.rejects)
        feed = _Feed(spec, url, headers, masker, sink)
        started = time.monotonic()
        feed.run()
        log.info(
            "%s: %d message(s), %d record(s) in %.1f s",
            url,
            sink.messages,
            sink.records,
            time.monotonic() - started,
        )
        yield from quiet_aware(spool.batches(ctx.batch_rows))


def feed_url(conn: Connection, spec: WebSocketSource) -> str:
    """`ws[s]://host[:port]/<base path>/<endpoint>?<params>`, without credentials."""
    url = connection_url(conn)
    if url.scheme not in _SCHEMES or not url.hostname:
        raise SourceError(
            f"connection {conn.conn_id!r} is not a WebSocket URL with a host (scheme "
            f"{url.scheme!r}); a websocket source reads ws:// or wss:// only",
            hint="set it to a URL such as wss://TOKEN@feeds.example.com/v1",
        )
    path = "/".join(part.strip("/") for part in (url.path, spec.endpoint) if part)
    query = urlencode({name: query_value(value) for name, value in spec.params.items()})
    return urlunsplit((url.scheme, url.netloc, f"/{path}", query, ""))


def credentials(conn: Connection) -> tuple[dict[str, str], Masker]:
    """The handshake's `Authorization` header, and a masker that knows its secrets.

    The extra `token`, a password alone or a login alone (`wss://TOKEN@host`) is a bearer
    token; a login and a password are HTTP Basic; none sends no header.
    """
    masker = masker_for(conn)
    token = conn.extra.get("token")
    if not token and conn.login and conn.password:
        return {"Authorization": basic(conn.login, conn.password)}, masker
    token = token or conn.password or conn.login
    if not token:
        return {}, masker
    masker.add(str(token))
    return {"Authorization": f"Bearer {token}"}, masker


@dataclass
class _Sink:
    """Takes each message: its records to the spool, or the message to the rejects."""

    spec: WebSocketSource
    spool: RecordSpool
    rejects: Rejects
    messages: int = 0
    records: int = 0
    rows: int = 0
    """Data rows so far (records, and rejected messages), which number the rejects."""

    def take(self, data: bytes) -> None:
        """One message, as received."""
        self.messages += 1
        try:
            body = json.loads(data)
        except ValueError as exc:
            self._reject(data, f"message {self.messages} is not JSON: {exc}")
            return
        found = records_in(self.spec.records, body)
        for index, record in enumerate(found):
            if not isinstance(record, dict):
                what = type(record).__name__
                self._reject(
                    data,
                    f"message {self.messages}: record {index} selected by "
                    f"records={self.spec.records!r} is {what}, not an object",
                )
                return
        self.spool.add(found)
        self.records += len(found)
        self.rows += len(found)

    def _reject(self, data: bytes, reason: str) -> None:
        self.rows += 1
        text = data.decode("utf-8", "replace")
        self.rejects.add("message", [reason], [{"message": text}], [self.rows], at_source=True)


@dataclass
class _Feed:
    """The connection to the feed, opened again while the bounds and attempts allow."""

    spec: WebSocketSource
    url: str
    headers: dict[str, str] = field(repr=False)
    masker: Masker
    sink: _Sink
    opened: bool = False

    def run(self) -> None:
        """Read until a bound is reached or the server ends the feed.

        Raises:
            SourceError: The server refused the connection, a message was too large, the
                connection failed more than `reconnect.attempts` times in a row, or it
                never opened within `max_seconds`.
        """
        deadline = time.monotonic() + self.spec.max_seconds
        failures, reason = 0, ""
        while not self._full() and time.monotonic() < deadline:
            before = self.sink.messages
            try:
                self._session(deadline)
                return
            except _Dropped as drop:
                failures = 1 if self.sink.messages > before else failures + 1
                reason = str(drop)
                self._wait(failures, reason, deadline)
        if not self.opened:
            raise SourceError(
                f"{self.url}: could not connect within max_seconds "
                f"({self.spec.max_seconds:g} s): {reason}",
                hint="check that the feed is up and that the connection's URL is right",
            )

    def _full(self) -> bool:
        return self.spec.max_messages is not None and self.sink.messages >= self.spec.max_messages

    def _session(self, deadline: float) -> None:
        """One connection: subscribe, then receive until a bound or the server's end."""
        with self._open(deadline) as ws:
            self.opened = True
            try:
                for message in self.spec.messages():
                    ws.send(json.dumps(message))
                self._receive(ws, deadline)
            except ConnectionClosed as exc:
                self._closed(exc)

    def _open(self, deadline: float) -> ClientConnection:
        try:
            return connect(
                self.url,
                additional_headers=self.headers,
                user_agent_header="dagsmith",
                open_timeout=max(0.1, min(self.spec.connect_timeout, deadline - time.monotonic())),
                ping_interval=self.spec.ping_interval,
                ping_timeout=self.spec.ping_interval,
                close_timeout=_CLOSE_TIMEOUT,
                max_size=_MAX_MESSAGE,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (408, 429) or status >= 500:
                raise _Dropped(f"the server answered HTTP {status}") from exc
            raise SourceError(
                f"{self.url}: the server refused the WebSocket connection (HTTP {status})",
                hint="check the endpoint and the connection's credentials",
            ) from exc
        except InvalidURI as exc:
            raise SourceError(f"{self.url} is not a valid WebSocket URL") from exc
        except (OSError, WebSocketException) as exc:
            raise _Dropped(self.masker.mask(str(exc)) or type(exc).__name__) from exc

    def _receive(self, ws: ClientConnection, deadline: float) -> None:
        while not self._full():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                data = ws.recv(timeout=left, decode=False)
            except TimeoutError:
                return
            self.sink.take(data)

    def _closed(self, exc: ConnectionClosed) -> None:
        """Return when the server ended the feed; raise when the connection dropped."""
        if isinstance(exc, ConnectionClosedOK) and exc.rcvd and exc.rcvd.code == _ENDED:
            log.info("%s: the server ended the feed (close code 1000)", self.url)
            return
        if exc.sent is not None and exc.sent.code == _TOO_BIG:
            raise SourceError(
                f"{self.url}: message {self.sink.messages + 1} is larger than "
                f"{_MAX_MESSAGE >> 20} MiB",
            ) from exc
        raise _Dropped(self.masker.mask(str(exc))) from exc

    def _wait(self, failures: int, reason: str, deadline: float) -> None:
        attempts = self.spec.reconnect.attempts
        if failures > attempts:
            raise SourceError(
                f"{self.url}: {reason}; gave up after {attempts} reconnect(s) in a row",
                hint="check that the feed is up, or raise reconnect.attempts",
            )
        policy = self.spec.reconnect
        delay = min(policy.max_wait, policy.backoff * 2 ** (failures - 1))
        delay = delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 - jitter, not a secret
        log.warning(
            "%s: %s; reconnecting in %.1f s (%d of %d)", self.url, reason, delay, failures, attempts
        )
        time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
