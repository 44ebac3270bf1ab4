"""The Kafka source (`kind: kafka`): a bounded micro-batch of JSON messages, exactly once.

The connection names the brokers: `AIRFLOW_CONN_EVENTS=kafka://broker1:9092` (more servers
in the extra `bootstrap.servers`), login and password for SASL, and librdkafka's security
settings as extras (`?security.protocol=SASL_SSL&sasl.mechanism=SCRAM-SHA-512`).

A run assigns every partition of the topics at the offset the last load committed (the
stream's `Position`, kept in `_dagsmith_state`), reads until each partition is at its end,
`max_messages` are read or `max_seconds` pass, and moves the position past every message
it read, the rejected ones too. Nothing is committed to the broker: the load commits the
position in its own transaction, so a run that fails to load leaves it where it was and
the next run reads the same messages again.
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import orjson
import pyarrow as pa
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)

from connectors.connections import Connection, get_connection
from connectors.errors import SourceError
from connectors.runtime import Position, ReadContext
from connectors.sources import json, quiet_aware
from connectors.spec.files import JsonlSource
from connectors.spec.kafka import KafkaSource
from connectors.spec.sources import SourceSpec

log = logging.getLogger("dagsmith")

_SETTINGS = re.compile(
    r"bootstrap\.servers|security\.protocol|sasl\.[a-z.]+|ssl\.[a-z.]+|client\.id"
    r"|socket\.[a-z.]+|broker\.address\.family|reconnect\.backoff(\.max)?\.ms"
)
"""librdkafka settings a connection may carry: where and how to connect, nothing else."""
_POLL_SECONDS = 0.5
_METADATA_SECONDS = 15.0
Partition = tuple[str, int]


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """The messages past the committed position, as batches; the position moves past them.

    The values are spooled to a JSON Lines file and read back as one (the `jsonl` kind's
    typing: nested values are `json` columns), so a topic reads as its messages' file would.
    """
    if not isinstance(spec, KafkaSource):
        raise TypeError(f"the kafka reader cannot read a {spec.kind!r} source")
    conn = get_connection(spec.connection, ctx.project_dir)
    position = ctx.position if ctx.position is not None else Position()
    with tempfile.TemporaryDirectory(prefix="dagsmith-kafka-") as folder:
        spool = Path(folder) / "messages.jsonl"
        consumer = Consumer(_config(spec, conn))
        try:
            with spool.open("wb") as out:
                offsets = _consume(spec, consumer, position.start, out, ctx)
        finally:
            consumer.close()
        position.end = _moved(position.start, offsets)
        lines = JsonlSource(kind="jsonl", path=spool.name)
        here = replace(ctx, base_dir=spool.parent, project_dir=spool.parent)
        for batch in quiet_aware(json.read(lines, here)):
            yield _timestamps(batch)


def _config(spec: KafkaSource, conn: Connection) -> dict[str, Any]:
    settings = {str(key): value for key, value in conn.extra.items()}
    if unknown := sorted(key for key in settings if not _SETTINGS.fullmatch(key)):
        raise SourceError(
            f"connection {conn.conn_id!r}: {', '.join(unknown)} is not a connection setting",
            hint="a Kafka connection carries the brokers and security.protocol, sasl.* and "
            "ssl.* settings; consumer settings belong to dagsmith",
        )
    if "bootstrap.servers" not in settings:
        if not conn.host:
            raise SourceError(
                f"connection {conn.conn_id!r} names no broker",
                hint="set it to kafka://broker:9092 (more in the extra bootstrap.servers)",
            )
        settings["bootstrap.servers"] = f"{conn.host}:{conn.port or 9092}"
    if conn.login:
        settings |= {"sasl.username": conn.login, "sasl.password": conn.password or ""}
        settings.setdefault("sasl.mechanism", "PLAIN")
        settings.setdefault("security.protocol", "SASL_SSL")
    return settings | {
        # librdkafka wants a group; offsets are never committed to it (the load commits them).
        "group.id": f"dagsmith-{spec.connection}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        # The prefetch queue per partition (64 MB by default) is most of a run's memory.
        "queued.max.messages.kbytes": 16_384,
        # Where a committed offset is gone (past the topic's retention).
        "auto.offset.reset": spec.start,
        "client.id": settings.get("client.id", "dagsmith"),
        "logger": _librdkafka_log(),
    }


class _Once(logging.Filter):
    """Lets each distinct line through once: librdkafka says "Connect ... failed" every
    few milliseconds while a broker is down."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        line = record.getMessage()
        if line in self._seen:
            return False
        self._seen.add(line)
        return True


def _librdkafka_log() -> logging.Logger:
    """The logger librdkafka writes to: dagsmith's, each distinct line once per read."""
    logger = logging.getLogger("dagsmith.kafka")
    logger.filters = [_Once()]
    return logger


def _consume(
    spec: KafkaSource,
    consumer: Consumer,
    start: dict[str, Any],
    out: IO[bytes],
    ctx: ReadContext,
) -> dict[Partition, int]:
    """Write each message's record as a line of `out`; the next offset of every partition
    a message was read from."""
    partitions = _partitions(spec, consumer)
    consumer.assign([_at(spec, start, topic, number) for topic, number in partitions])
    pending = set(partitions)
    offsets: dict[Partition, int] = {}
    read, deadline = 0, time.monotonic() + spec.max_seconds
    while pending and read < spec.max_messages and (left := deadline - time.monotonic()) > 0:
        batch = consumer.consume(min(10_000, spec.max_messages - read), min(left, _POLL_SECONDS))
        for message in batch:
            error = message.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                _on_error(spec, error)  # such an event may name no partition
                continue
            place = topic, number, offset = _place(message)
            if error is not None:
                # A partition's end is where the next run starts, one that began at `latest`
                # and read nothing included: what arrives meanwhile is read.
                offsets[(topic, number)] = max(offsets.get((topic, number), 0), offset)
                pending.discard((topic, number))
                continue
            read += 1
            offsets[(topic, number)] = offset + 1
            if line := _line(spec, message, place, read, ctx):
                out.write(line)
    log.info(
        "%s: %d message(s) read, %d partition(s) at their end",
        spec.connection,
        read,
        len(partitions) - len(pending),
    )
    return offsets


def _partitions(spec: KafkaSource, consumer: Consumer) -> list[Partition]:
    """Every partition of the topics the spec names (a `^` name: the topics it matches)."""
    try:
        topics = consumer.list_topics(timeout=_METADATA_SECONDS).topics
    except KafkaException as exc:
        raise SourceError(
            f"connection {spec.connection!r}: the brokers did not answer ({exc.args[0].str()})",
            hint="check the connection's brokers and security settings",
        ) from None
    listed = ", ".join(sorted(t for t in topics if not t.startswith("__")))
    names: list[str] = []
    for wanted in spec.topics:
        found = (
            [t for t in sorted(topics) if re.fullmatch(wanted, t) and not t.startswith("__")]
            if wanted.startswith("^")
            else [wanted]
            if wanted in topics
            else []
        )
        if not found:
            raise SourceError(
                f"connection {spec.connection!r} holds no topic {wanted!r}",
                hint=f"its topics: {listed}",
            )
        names.extend(name for name in found if name not in names)
    return [(name, number) for name in names for number in sorted(topics[name].partitions)]


def _at(spec: KafkaSource, start: dict[str, Any], topic: str, number: int) -> TopicPartition:
    committed = start.get(topic, {}).get(str(number))
    if committed is not None:
        return TopicPartition(topic, number, int(committed))
    first = OFFSET_BEGINNING if spec.start == "earliest" else OFFSET_END
    return TopicPartition(topic, number, first)


def _place(message: Message) -> tuple[str, int, int]:
    """A message's (or a partition end's) topic, partition and offset."""
    topic, number, offset = message.topic(), message.partition(), message.offset()
    assert topic is not None and number is not None and offset is not None
    return topic, number, offset


def _on_error(spec: KafkaSource, error: KafkaError) -> None:
    if error.fatal() or not error.retriable():
        raise SourceError(
            f"connection {spec.connection!r}: {error.str()}",
            hint="check the topic and the connection's rights to read it",
        )
    # A broker restarting or a rebalance of leaders: librdkafka carries on.
    log.warning("%s: %s (retrying)", spec.connection, error.str())


def _line(
    spec: KafkaSource, message: Message, place: tuple[str, int, int], number: int, ctx: ReadContext
) -> bytes | None:
    """The message's record as one JSON line, with the metadata asked for; None when the
    value is not a JSON object (then it is rejected)."""
    value = message.value()
    try:
        record = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError as exc:
        _reject(ctx, place, f"the value is not JSON ({exc})", value, number)
        return None
    if not isinstance(record, dict):
        what = "no value (a tombstone)" if value is None else f"a JSON {type(record).__name__}"
        _reject(ctx, place, f"{what}, not an object", value, number)
        return None
    if not spec.metadata and value is not None and b"\n" not in value:
        return value + b"\n"  # already one line of JSON: no need to write it again
    for name in spec.metadata:
        record[f"kafka_{name}"] = _metadata(message, name)
    return orjson.dumps(record) + b"\n"


def _metadata(message: Message, name: str) -> Any:
    if name == "key":
        key = message.key()
        return key.decode("utf-8", errors="replace") if isinstance(key, bytes) else key
    if name == "timestamp":
        kind, millis = message.timestamp()
        return millis if kind != 0 else None  # 0: TIMESTAMP_NOT_AVAILABLE
    return message.topic() if name == "topic" else getattr(message, name)()


def _reject(
    ctx: ReadContext, place: tuple[str, int, int], why: str, value: bytes | None, number: int
) -> None:
    reason = "{}[{}] offset {}: ".format(*place) + why
    raw = value.decode("utf-8", errors="replace") if value is not None else None
    ctx.rejects.add("kafka_message", [reason], [{"value": raw}], [number], at_source=True)


def _moved(start: dict[str, Any], offsets: dict[Partition, int]) -> dict[str, Any]:
    moved = {topic: dict(partitions) for topic, partitions in start.items()}
    for (topic, number), offset in offsets.items():
        moved.setdefault(topic, {})[str(number)] = offset
    return moved


def _timestamps(batch: pa.RecordBatch) -> pa.RecordBatch:
    """`kafka_timestamp` (milliseconds since the epoch) as a UTC timestamp."""
    index = batch.schema.get_field_index("kafka_timestamp")
    if index < 0:
        return batch
    stamps = batch.column(index).cast(pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    return batch.set_column(index, "kafka_timestamp", stamps)
