"""What stream kinds (Kafka topics, WebSocket feeds) share: a run's bounds in words."""

from __future__ import annotations

import re
from typing import Any

from connectors.kinds.base import Hints

_FOR = re.compile(r"\bfor\s+(\d{1,5})\s+(seconds?|secs?|s|minutes?|mins?)\b", re.IGNORECASE)
_UP_TO = re.compile(r"\b(?:at\s+most|up\s+to)\s+(\d{1,9})\s+messages?\b", re.IGNORECASE)


def bounds(text: str) -> Hints:
    """How long to read ("for 60 seconds", "for 5 minutes") and how much ("at most 500
    messages"), from the words of a request."""
    options: dict[str, Any] = {}
    spans = []
    if during := _FOR.search(text):
        seconds = int(during.group(1)) * (60 if during.group(2).lower().startswith("m") else 1)
        options["max_seconds"] = seconds
        spans.append(during.span())
    if most := _UP_TO.search(text):
        options["max_messages"] = int(most.group(1))
        spans.append(most.span())
    return Hints(options, tuple(spans))
