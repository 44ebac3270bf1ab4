"""Kafka topics (`kind: kafka`): JSON messages, the offsets committed with each load."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors.errors import SpecError
from connectors.kinds.base import Reach, SourceKind
from connectors.kinds.streams import bounds
from connectors.lineage.names import DatasetName

if TYPE_CHECKING:
    from connectors.connections import Connection
    from connectors.spec.kafka import KafkaSource


def _label(spec: KafkaSource) -> str:
    return f"{spec.connection} topics {', '.join(spec.topics)}"


def _reaches(spec: KafkaSource) -> Reach:
    topics = tuple((topic, "topic") for topic in spec.topics)
    return Reach(
        connections=((spec.connection, "Kafka brokers"),),
        hosts_of=(spec.connection,),
        verbatim=topics,
    )


def _from_url(url: str, connection: str | None) -> dict[str, Any]:
    """`kafka://orders` (`kafka://orders,returns`) on `--connection`: the topics to read."""
    if connection is None:
        raise SpecError(
            f"{url}: a topic needs the connection of its brokers",
            hint="add --connection ID, with AIRFLOW_CONN_<ID>=kafka://broker:9092",
        )
    topics = [t for t in url.split("://", 1)[1].strip("/").split(",") if t]
    return {"connection": connection, "topics": topics}


def _datasets(
    spec: KafkaSource, connection: Connection | None, _base_dir: Path
) -> tuple[DatasetName, ...]:
    """Each topic, in the namespace of the first bootstrap server (`kafka://host:port`)."""
    if connection is None:
        raise SpecError(f"{spec.connection}: a Kafka source needs its connection")
    servers = str(connection.extra.get("bootstrap.servers") or "")
    first = (
        servers.split(",", maxsplit=1)[0].strip() or f"{connection.host}:{connection.port or 9092}"
    )
    server = first.rpartition("://")[2].rpartition("@")[2]
    return tuple(DatasetName(f"kafka://{server}", topic) for topic in spec.topics)


KAFKA: SourceKind[KafkaSource] = SourceKind(
    name="kafka",
    model_path="connectors.spec.kafka:KafkaSource",
    reader_path="connectors.sources.kafka:read",
    label=_label,
    reaches=_reaches,
    sampler_path="connectors.profiling.kafka:sample",
    schemes=frozenset({"kafka"}),
    from_url=_from_url,
    positioned=True,
    hints=bounds,
    watermarks=False,
    datasets=_datasets,
)
