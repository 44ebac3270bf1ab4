"""WebSocket feeds: a profile reads the first messages, for a few seconds at most.

A feed has no end and no count: the sample is what it sends while the profile waits,
read by the source's own reader (its subscribe, records path and masking).
"""

from __future__ import annotations

from connectors.profiling import sample_sql
from connectors.profiling.model import Count
from connectors.profiling.sample import Sample
from connectors.runtime import ReadContext
from connectors.spec.websocket import WebSocketSource

SAMPLE_SECONDS = 10.0
"""The longest a profile listens to a feed (unless `full`, which reads as a run does)."""


def sample(spec: WebSocketSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """The records of the first messages: at most `rows` messages and `SAMPLE_SECONDS`."""
    if not full:
        messages = min(spec.max_messages or rows, rows)
        seconds = min(spec.max_seconds, SAMPLE_SECONDS)
        spec = spec.model_copy(update={"max_messages": messages, "max_seconds": seconds})
    table, _ = sample_sql.head(spec, ctx, None if full else rows)
    return Sample(table, Count(None, estimated=True), "first messages")
