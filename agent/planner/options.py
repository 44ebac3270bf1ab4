"""Retries and alerts."""

from __future__ import annotations

import re
from typing import Any

from agent.planner.state import Parsed

_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_COUNTS = {"once": 1, "twice": 2, "thrice": 3}
_RETRY = re.compile(
    r"\b(?:and\s+)?(?:retry|re-?run\s+it|try\s+again)\s+(?:it\s+)?(?:up\s+to\s+)?"
    r"(?P<n>\d+|once|twice|thrice)(?:\s+times?)?"
    r"(?:\s+(?:every|after|waiting)\s+(?P<wait>\d+)\s*(?P<unit>seconds?|secs?|s|minutes?|mins?|m"
    r"|hours?|h)\b)?(?:\s+(?:if|when|on)\s+(?:it\s+)?fail(?:s|ed|ures?)?)?|\b(?:with\s+)?"
    r"(?P<n2>\d+)\s+retries\b(?:\s+on\s+failure)?",
    re.IGNORECASE,
)
_NO_RETRY = re.compile(r"\b(?:no\s+retries|do\s*n[o']?t\s+retry|never\s+retry)\b", re.IGNORECASE)
_NO_BACKOFF = re.compile(r"\b(?:no|without)\s+(?:exponential\s+)?backoff\b", re.IGNORECASE)
_ALERT = re.compile(
    rf"\b(?:send\s+(?:an?\s+)?)?(?:e-?mail|mail|alert|notify|message|page)\s+(?:to\s+)?(?P<who>{_EMAIL}(?:\s*(?:,|and)\s*{_EMAIL})*)"
    r"(?:\s+(?:on|when|if|after|in\s+case\s+of)\s+(?:it\s+|a\s+|the\s+)?(?P<when>fail\w*|errors?|succe\w+|complet\w+|finish\w*))?",
    re.IGNORECASE,
)
_WEBHOOK = re.compile(
    r"\b(?:slack|webhook)\s+(?:(?:in|from|at)\s+)?(?:env\s+|\$)?(?P<env>[A-Z][A-Z0-9_]{2,127})\b"
    r"(?:\s+(?:on|when|if|after)\s+(?:it\s+)?(?P<when>fail\w*|errors?|succe\w+|complet\w+|finish\w*))?"
)
_SUCCESS = ("succe", "complet", "finish")


def read_retries(text: str, parsed: Parsed) -> None:
    """`retry 5 times every 10 minutes`, `no retries`, `without backoff`."""
    retries: dict[str, Any] = {}
    if none := _NO_RETRY.search(text):
        parsed.use(none)
        retries["count"] = 0
    elif match := _RETRY.search(text):
        parsed.use(match)
        count = match.group("n") or match.group("n2")
        retries["count"] = _COUNTS.get(count.lower()) or int(count)
        if match.group("wait"):
            seconds = int(match.group("wait")) * _unit(match.group("unit"))
            retries["delay"] = seconds
            retries["max_delay"] = max(seconds, 3600)
    if backoff := _NO_BACKOFF.search(text):
        parsed.use(backoff)
        retries["exponential"] = False
    if retries:
        parsed.pipeline["retries"] = retries


def _unit(unit: str) -> int:
    unit = unit.lower()
    return 3600 if unit.startswith("h") else 60 if unit.startswith("m") else 1


def read_alerts(text: str, parsed: Parsed) -> None:
    """`email ops@example.com on failure`, `slack SLACK_WEBHOOK_URL on success`."""
    alerts: dict[str, list[dict[str, str]]] = {}
    for match in _ALERT.finditer(text):
        parsed.use(match)
        for email in re.findall(_EMAIL, match.group("who")):
            alerts.setdefault(_when(match), []).append({"email": email})
    for match in _WEBHOOK.finditer(text):
        parsed.use(match)
        alerts.setdefault(_when(match), []).append({"webhook_env": match.group("env")})
    if alerts:
        parsed.pipeline["alerts"] = alerts


def _when(match: re.Match[str]) -> str:
    when = (match.group("when") or "").lower()
    return "on_success" if when.startswith(_SUCCESS) else "on_failure"
