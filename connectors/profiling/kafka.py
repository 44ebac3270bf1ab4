"""Sampling a Kafka source: its first messages, with nothing committed anywhere."""

from __future__ import annotations

from connectors.profiling.model import Count
from connectors.profiling.sample import Sample, head
from connectors.runtime import ReadContext
from connectors.spec.kafka import KafkaSource

SAMPLE_SECONDS = 10.0
"""Longest a profile waits for messages."""


def sample(spec: KafkaSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """The first messages from where a first run would start; nothing is committed."""
    bounded = spec.model_copy(
        update={"max_messages": rows, "max_seconds": min(spec.max_seconds, SAMPLE_SECONDS)}
    )
    taken = head(bounded, ctx, rows, full)
    # More messages will come: a topic's sample never counts it (nor makes a column required).
    return Sample(taken.table, Count(None, estimated=True), "first messages")
