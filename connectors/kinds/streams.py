"""What stream kinds (Kafka topics, WebSocket feeds) share: a run's bounds in words."""

from __future__ import annotations

import re
from typing import Any

from connectors.kinds.base import Hints

_FOR = re.compile(
    r"\bfor\s+(?:at\s+most\s+|up\s+to\s+)?(\d{1,5}|an?|one|two|three|four|five|ten|half\s+an?)"
    r"\s+(seconds?|secs?|s|minutes?|mins?)\b",
    re.IGNORECASE,
)
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}
_UP_TO = re.compile(r"\b(?:at\s+most|up\s+to)\s+(\d{1,9})\s+messages?\b", re.IGNORECASE)


def bounds(text: str) -> Hints:
    """How long to read ("for 60 seconds", "for 5 minutes") and how much ("at most 500
    messages"), from the words of a request."""
    options: dict[str, Any] = {}
    spans = []
    if during := _FOR.search(text):
        count, unit = during.group(1).lower(), during.group(2).lower()
        amount = 0.5 if count.startswith("half") else _WORDS.get(count) or int(count)
        seconds = int(amount * (60 if unit.startswith("m") else 1))
        options["max_seconds"] = seconds
        spans.append(during.span())
    if most := _UP_TO.search(text):
        options["max_messages"] = int(most.group(1))
        spans.append(most.span())
    return Hints(options, tuple(spans))
