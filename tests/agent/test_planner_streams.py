"""The offline planner reads Kafka topics and WebSocket feeds as people name them."""

from __future__ import annotations

import pytest

from agent.planner import plan
from connectors.spec.kafka import KafkaSource
from connectors.spec.websocket import WebSocketSource


@pytest.mark.parametrize(
    ("request_text", "topics", "connection"),
    [
        (
            "every 5 minutes load the orders topic on connection events into raw.order_events",
            ["orders"],
            "events",
        ),
        (
            "load the kafka topic orders.v1 into raw.o using connection events",
            ["orders.v1"],
            "events",
        ),
        ("copy topic payments-eu from the cluster prod into raw.payments", ["payments-eu"], "prod"),
        ("load kafka://returns using connection events into raw.r", ["returns"], "events"),
        (
            "load the returns.eu and returns.us topics on connection events into raw.returns",
            ["returns.eu", "returns.us"],
            "events",
        ),
        (
            "load topics returns.eu, returns.us and returns.uk from the events connection "
            "into raw.returns",
            ["returns.eu", "returns.us", "returns.uk"],
            "events",
        ),
        ("consume orders from the events connection into raw.orders", ["orders"], "events"),
        (
            "every 5 minutes consume the orders and refunds topics from the events cluster "
            "into raw.money",
            ["orders", "refunds"],
            "events",
        ),
        ("load kafka://returns from the events connection into raw.r", ["returns"], "events"),
    ],
)
def test_a_topic_on_a_connection(request_text: str, topics: list[str], connection: str) -> None:
    planned = plan(request_text)
    assert planned.questions == [] and planned.spec is not None
    source = planned.spec.streams[0].source
    assert isinstance(source, KafkaSource)
    assert (source.topics, source.connection) == (topics, connection)


@pytest.mark.parametrize(
    "request_text",
    [
        "load the orders topic into raw.o",
        "load kafka://orders into raw.o",
        "load the returns.eu and returns.us topics into raw.returns",
    ],
)
def test_a_topic_without_brokers_is_a_question(request_text: str) -> None:
    planned = plan(request_text)
    assert planned.spec is None
    assert any("connection" in question for question in planned.questions)


def test_a_feed_url_becomes_a_connection_of_its_own_with_its_bounds() -> None:
    planned = plan(
        "read the trades feed wss://feeds.example.com/v1/trades?depth=5 into raw.trades "
        "for 2 minutes, at most 500 messages"
    )
    assert planned.questions == [] and planned.spec is not None
    source = planned.spec.streams[0].source
    assert isinstance(source, WebSocketSource)
    assert (source.connection, source.endpoint, source.params) == (
        "trades_source",
        "v1/trades",
        {"depth": "5"},
    )
    assert (source.max_seconds, source.max_messages) == (120, 500)
    assert planned.source_args["source"] == "wss://feeds.example.com/v1/trades?depth=5"
