"""Fixtures of the trace tests: an OTLP receiver on loopback, and the OTel settings cleared."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.traces.receiver import Receiver, receiver


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A real OTLP/HTTP receiver; `OTEL_EXPORTER_OTLP_ENDPOINT` points at it (and no other
    OTel setting of this machine's is left)."""
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    with receiver() as got:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", got.url)
        monkeypatch.setenv("DAGSMITH_TRACES_TIMEOUT", "10")
        yield got
