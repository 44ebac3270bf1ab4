"""Fixtures of the lineage tests: a receiver on loopback, and OpenLineage pointed at it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.lineage.receiver import Receiver, receiver


@pytest.fixture
def openlineage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A real HTTP receiver, with `OPENLINEAGE_URL` pointing at it for the test."""
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(name)
    with receiver() as got:
        monkeypatch.setenv("OPENLINEAGE_URL", got.url)
        monkeypatch.setenv("DAGSMITH_LINEAGE_TIMEOUT", "10")
        yield got
