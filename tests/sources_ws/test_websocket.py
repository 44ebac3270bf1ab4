"""`kind: websocket` against a real WebSocket server on 127.0.0.1: subscribe, records, the
bounds of a read, reconnects, rejects, nested values and credentials."""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import TypeAdapter, ValidationError

from connectors.connections import parse_connection
from connectors.errors import SourceError
from connectors.profiling import sample
from connectors.sources.websocket import credentials, feed_url
from connectors.spec.sources import SourceSpec
from connectors.spec.websocket import WebSocketSource
from tests.conftest import read_context
from tests.sources_rest.conftest import free_port
from tests.sources_ws.conftest import TOKEN, FeedServer, Script, read_table, read_with, spec

SUBSCRIBE = {"op": "subscribe", "channel": "trades"}
TRADES = (
    {"type": "ack"},
    {"data": [{"id": 1, "price": 1.5}, {"id": 2, "price": 2.5}]},
    {"data": [{"id": 3, "price": 3.0}]},
)


def test_the_subscribe_is_sent_and_each_messages_records_are_read(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.scripts = [Script(TRADES)]
    table = read_table(spec(records="$.data[*]", max_messages=3), tmp_path)
    assert table.to_pylist() == [
        {"id": 1, "price": 1.5},
        {"id": 2, "price": 2.5},
        {"id": 3, "price": 3.0},
    ]
    [session] = feed.sessions
    assert session.path == "/v1/trades"
    assert [json.loads(m) for m in session.received] == [SUBSCRIBE]


def test_a_list_of_subscribe_messages_is_sent_in_order(feed: FeedServer, tmp_path: Path) -> None:
    feed.scripts = [Script(({"n": 1},), subscribes=3)]
    messages = [{"op": "login_free"}, {"op": "subscribe"}, ["trades", "quotes"]]
    source = spec(subscribe=messages, params={"depth": 5, "raw": True}, max_messages=1)
    assert read_table(source, tmp_path).to_pylist() == [{"n": 1}]
    [session] = feed.sessions
    assert [json.loads(m) for m in session.received] == messages
    assert session.path == "/v1/trades?depth=5&raw=true"


def test_max_messages_ends_the_read(feed: FeedServer, tmp_path: Path) -> None:
    feed.scripts = [Script(({"n": 1}, {"n": 2}, {"n": 3}), every=0.01, endless=True)]
    table = read_table(spec(max_messages=5, max_seconds=30), tmp_path)
    assert table.column("n").to_pylist() == [1, 2, 3, 1, 2]


def test_max_seconds_ends_a_read_of_an_endless_feed(feed: FeedServer, tmp_path: Path) -> None:
    feed.scripts = [Script(({"n": 1},), every=0.02, endless=True)]
    started = time.monotonic()
    table = read_table(spec(max_messages=None, max_seconds=0.6), tmp_path)
    assert 0.6 <= time.monotonic() - started < 4
    assert 0 < table.num_rows < 60


def test_a_feed_that_never_sends_ends_at_max_seconds_with_no_row(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.scripts = [Script()]
    started = time.monotonic()
    table = read_table(spec(max_seconds=0.5), tmp_path)
    assert 0.5 <= time.monotonic() - started < 3
    assert table.num_rows == 0
    assert len(feed.sessions) == 1


@pytest.mark.parametrize("then", ["drop", "restart"])
def test_a_dropped_connection_is_opened_again_subscribed_again_and_read_on(
    feed: FeedServer, tmp_path: Path, then: str, caplog: pytest.LogCaptureFixture
) -> None:
    feed.scripts = [Script(({"n": 1}, {"n": 2}), then=then), Script(({"n": 3}, {"n": 4}))]
    with caplog.at_level(logging.WARNING, logger="dagsmith"):
        table = read_table(spec(max_messages=4), tmp_path)
    assert table.column("n").to_pylist() == [1, 2, 3, 4]
    assert [[json.loads(m) for m in s.received] for s in feed.sessions] == [[SUBSCRIBE]] * 2
    assert "reconnecting in" in caplog.text


def test_a_feed_that_keeps_dropping_fails_after_the_reconnect_attempts(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.scripts = [Script(then="drop")]
    with pytest.raises(SourceError, match=r"gave up after 3 reconnect\(s\) in a row") as caught:
        read_table(spec(max_seconds=30), tmp_path)
    assert len(feed.sessions) == 4, "the first connection and three reconnects"
    assert "ws://127.0.0.1" in str(caught.value) and TOKEN not in str(caught.value)


def test_a_connection_that_delivers_starts_the_count_of_failures_again(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.scripts = [Script(({"n": 1},), then="drop")]
    table = read_table(spec(max_messages=6, reconnect={"attempts": 1, "backoff": 0.01}), tmp_path)
    assert table.num_rows == 6 and len(feed.sessions) == 6


def test_a_feed_nobody_serves_is_an_error_not_an_empty_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FEED", f"ws://{TOKEN}@127.0.0.1:{free_port()}")
    with pytest.raises(SourceError, match="gave up after 3 reconnect") as caught:
        read_table(spec(), tmp_path)
    assert TOKEN not in str(caught.value)
    many = {"attempts": 20, "backoff": 0.05, "max_wait": 0.1}
    with pytest.raises(SourceError, match="could not connect within max_seconds"):
        read_table(spec(max_seconds=0.5, reconnect=many), tmp_path)


def test_a_normal_close_ends_the_feed_without_a_reconnect(feed: FeedServer, tmp_path: Path) -> None:
    feed.scripts = [Script(({"n": 1}, {"n": 2}), then="close")]
    assert read_table(spec(max_seconds=30), tmp_path).num_rows == 2
    assert len(feed.sessions) == 1


def test_a_message_that_is_not_json_or_holds_no_objects_goes_to_the_rejects(
    feed: FeedServer, tmp_path: Path
) -> None:
    messages = ({"n": 1}, "not json {", b"\xff\xfe", {"n": 2}, [1, 2], {"n": 3})
    feed.scripts = [Script(messages)]
    table, rejects = read_with(spec(max_messages=6), tmp_path)
    assert table.column("n").to_pylist() == [1, 2, 3]
    rows = rejects.to_pylist()
    assert [(r["row_number"], r["rule"]) for r in rows] == [
        (2, "message"),
        (3, "message"),
        (5, "message"),
    ]
    assert rows[0]["reason"].startswith("message 2 is not JSON")
    assert json.loads(rows[0]["raw"]) == {"message": "not json {"}
    assert "message 5: record 0 selected by records='$' is int, not an object" in rows[2]["reason"]


NESTED = {"id": 1, "customer": {"name": "Zoë", "address": {"city": "Lyon"}}, "tags": ["a", "b"]}


def test_nested_objects_are_flattened_and_arrays_kept_as_json(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.scripts = [Script((NESTED, {"id": 2, "customer": None, "tags": []}))]
    table = read_table(spec(max_messages=2), tmp_path)
    assert table.column_names == [
        "id",
        "customer_name",
        "customer_address_city",
        "tags",
        "customer",
    ]
    assert table.schema.field("tags").type == pa.json_()
    assert table.to_pylist()[0] == {
        "id": 1,
        "customer_name": "Zoë",
        "customer_address_city": "Lyon",
        "tags": '["a", "b"]',
        "customer": None,
    }


def test_flatten_json_keeps_nested_objects_as_json_text(feed: FeedServer, tmp_path: Path) -> None:
    feed.scripts = [Script((NESTED,))]
    table = read_table(spec(max_messages=1, flatten="json"), tmp_path)
    assert table.schema.field("customer").type == pa.json_()
    [row] = table.to_pylist()
    assert json.loads(row["customer"]) == NESTED["customer"]


def test_the_token_reaches_the_server_as_a_header_and_no_log_line(
    feed: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    feed.scripts = [Script(({"n": 1},))]
    with caplog.at_level(logging.DEBUG):
        read_table(spec(max_messages=1), tmp_path)
    assert feed.sessions[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "Authorization: Bearer ***" in caplog.text, "websockets logs the handshake, masked"
    assert TOKEN not in caplog.text


def test_a_refused_handshake_fails_at_once_without_the_token(
    feed: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    feed.refuse = 401
    with caplog.at_level(logging.DEBUG), pytest.raises(SourceError, match="HTTP 401") as caught:
        read_table(spec(), tmp_path)
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text
    assert feed.sessions == []


def test_a_login_and_password_are_sent_as_basic(
    feed: FeedServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = feed.url.removeprefix("ws://")
    monkeypatch.setenv("AIRFLOW_CONN_FEED", f"ws://reader:{TOKEN}@{host}")
    feed.scripts = [Script(({"n": 1},))]
    with caplog.at_level(logging.DEBUG):
        read_table(spec(max_messages=1), tmp_path)
    encoded = base64.b64encode(f"reader:{TOKEN}".encode()).decode()
    assert feed.sessions[0].headers["authorization"] == f"Basic {encoded}"
    assert feed.sessions[0].path == "/trades"
    assert TOKEN not in caplog.text and encoded not in caplog.text


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("ws://127.0.0.1:8765", "ws://127.0.0.1:8765/trades"),
        ("wss://tok3n-value@feeds.example.com/v1", "wss://feeds.example.com/v1/trades"),
        (
            '{"conn_type": "generic", "host": "wss://feeds.example.com/v2"}',
            "wss://feeds.example.com/v2/trades",
        ),
    ],
)
def test_the_url_is_the_connections_without_its_credentials(value: str, url: str) -> None:
    assert feed_url(parse_connection("feed", value), spec()) == url


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:8765", "https://api.example.com/v1", "postgresql://u:p@db/x"]
)
def test_a_connection_that_is_not_ws_or_wss_is_refused(value: str) -> None:
    with pytest.raises(SourceError, match=r"not a WebSocket URL .*ws:// or wss:// only"):
        feed_url(parse_connection("feed", value), spec())


def test_credentials_from_the_connection() -> None:
    bearer, masker = credentials(parse_connection("feed", "wss://tok3n-value@feeds.example.com"))
    assert bearer == {"Authorization": "Bearer tok3n-value"}
    assert masker.mask("x tok3n-value y") == "x *** y"
    extra = '{"conn_type": "wss", "host": "f.example.com", "extra": {"token": "tok3n-value"}}'
    assert credentials(parse_connection("feed", extra))[0] == bearer
    assert credentials(parse_connection("feed", "wss://:tok3n-value@f.example.com"))[0] == bearer
    assert credentials(parse_connection("feed", "ws://127.0.0.1:1"))[0] == {}


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {"subscribe": {"op": "auth", "args": {"api_key": "k"}}},
            "subscribe.args.api_key looks like a credential",
        ),
        ({"subscribe": [{"op": "sub"}, {"password": "p"}]}, r"subscribe\[1\].password looks like"),
        ({"params": {"access_token": "t"}}, "params.access_token looks like a credential"),
        ({"subscribe": ["text"]}, "subscribe"),
        ({"endpoint": "wss://elsewhere.example.com/x"}, "relative to the connection's base URL"),
        ({"max_seconds": None}, "max_seconds"),
        ({"max_seconds": 0}, "max_seconds"),
        ({"max_messages": 0}, "max_messages"),
        ({"records": "$.data[("}, "not a JSONPath expression"),
        ({"reconnect": {"attempts": 100}}, "attempts"),
    ],
)
def test_the_spec_refuses_secrets_and_unbounded_reads(
    fields: dict[str, object], error: str
) -> None:
    with pytest.raises(ValidationError, match=error):
        TypeAdapter(SourceSpec).validate_python(
            {"kind": "websocket", "connection": "feed", **fields}
        )


def test_a_websocket_source_has_bounded_defaults() -> None:
    source = TypeAdapter(SourceSpec).validate_python({"kind": "websocket", "connection": "feed"})
    assert isinstance(source, WebSocketSource)
    assert (source.max_messages, source.max_seconds, source.ping_interval) == (10_000, 60.0, 20.0)
    assert source.messages() == [] and source.reconnect.attempts == 5


def test_a_profile_samples_the_first_messages_only(feed: FeedServer, tmp_path: Path) -> None:
    feed.scripts = [Script(({"n": 1},), every=0.01, endless=True)]
    started = time.monotonic()
    taken = sample.take(spec(max_messages=None, max_seconds=600), read_context(tmp_path), rows=3)
    assert time.monotonic() - started < 5
    assert taken.table.column("n").to_pylist() == [1, 1, 1]
    assert (taken.rows.value, taken.rows.estimated, taken.method) == (None, True, "first messages")
