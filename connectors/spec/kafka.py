"""The Kafka source: JSON messages of one or more topics, read in bounded micro-batches."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from connectors.spec.base import ConnectionId, SourceModel


def _topic(value: str) -> str:
    """A topic name (letters, digits, `.`, `_`, `-`), or a pattern after `^`."""
    if value.startswith("^"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    elif not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", value):
        raise ValueError(
            f"{value!r} is not a topic name (letters, digits, '.', '_', '-'); "
            "a pattern starts with '^'"
        )
    return value


Topic = Annotated[str, Field(max_length=500), AfterValidator(_topic)]


class KafkaSource(SourceModel):
    """The JSON messages of Kafka topics, each message's value one record, typed as the
    lines of a JSON Lines file are (nested values are `json` columns).

    A run reads what the topics hold past the offsets committed with the last load, up to
    `max_messages` or `max_seconds`, and stops; the new offsets are committed in the load's
    own transaction (never to the broker first), so a crash neither loses nor repeats a
    message and the next run resumes where the last load ended.
    """

    kind: Literal["kafka"]
    connection: ConnectionId = Field(
        description=(
            "Id of the Kafka connection: AIRFLOW_CONN_<ID>=kafka://broker:9092 (the bootstrap "
            "servers), with login and password for SASL and librdkafka security settings "
            "(security.protocol, sasl.mechanism, ssl.ca.location...) as its extras."
        )
    )
    topics: list[Topic] = Field(
        min_length=1,
        max_length=100,
        description="Topics to read; a name starting with '^' is a regular expression.",
    )
    max_messages: int = Field(
        default=100_000, gt=0, le=100_000_000, description="Most messages one run reads."
    )
    max_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="Longest a run reads before it stops."
    )
    start: Literal["earliest", "latest"] = Field(
        default="earliest",
        description="Where a partition with no committed offset starts: its oldest message "
        "or the next one to arrive.",
    )
    metadata: list[Literal["key", "topic", "partition", "offset", "timestamp"]] = Field(
        default_factory=list,
        description="Message fields to keep as columns kafka_key, kafka_topic, ... "
        "(the key as text, the timestamp in UTC).",
    )
