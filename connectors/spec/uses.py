"""What a spec reaches by connection id: one list for review, `check --env` and the agent."""

from __future__ import annotations

from connectors.spec.models import Pipeline
from connectors.spec.protect import hash_key

TARGET = "the target"


def connections(spec: Pipeline) -> dict[str, list[str]]:
    """Each connection id the spec names -> what uses it, in spec order."""
    used: dict[str, list[str]] = {}
    if spec.target is not None:
        used[spec.target] = [TARGET]
    for stream in spec.streams:
        if connection := getattr(stream.source, "connection", None):
            used.setdefault(connection, []).append(f"the source of stream {stream.name}")
        for column, rule in stream.transform.protect.items():
            if key := hash_key(rule):
                used.setdefault(key, []).append(f"the hash key of {stream.name}.{column}")
    for alert in [*spec.alerts.on_failure, *spec.alerts.on_success]:
        if connection := getattr(alert, "webhook_conn", None):
            used.setdefault(connection, []).append("an alert webhook")
    return used
