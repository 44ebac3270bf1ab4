"""When a pipeline runs: hourly, daily at 6am, every 15 minutes, weekdays at 7, cron."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.planner.grammar import TIME, WEEKDAYS, clock
from agent.planner.sources import Parsed

_AT = rf"(?:\s+at\s+(?P<time>{TIME}))?"
_DAYS = "|".join(WEEKDAYS)


def _daily(match: re.Match[str]) -> str | None:
    return _at(match, "* * *", default="@daily")


def _weekdays(match: re.Match[str]) -> str | None:
    return _at(match, "* * 1-5", default="0 0 * * 1-5")


def _weekday(match: re.Match[str]) -> str | None:
    day = WEEKDAYS.index(match.group("day").lower())
    return _at(match, f"* * {day}", default=f"0 0 * * {day}")


def _every(unit: str) -> Callable[[re.Match[str]], str | None]:
    def cron(match: re.Match[str]) -> str | None:
        step = int(match.group("n"))
        if unit == "minute" and 1 <= step <= 59:
            return f"*/{step} * * * *" if step > 1 else "* * * * *"
        if unit == "hour" and 1 <= step <= 23:
            return f"0 */{step} * * *" if step > 1 else "@hourly"
        return None

    return cron


def _cron(match: re.Match[str]) -> str | None:
    return " ".join(match.group("cron").split())


_RULES: list[tuple[str, Callable[[re.Match[str]], str | None]]] = [
    (r"\bcron\s+[\"'`]?(?P<cron>(?:\S+\s+){4}[^\s\"'`]+)[\"'`]?", _cron),
    (r"\bevery\s+(?P<n>\d+)\s*(?:minutes?|mins?)\b", _every("minute")),
    (r"\bevery\s+(?P<n>\d+)\s*(?:hours?|hrs?)\b", _every("hour")),
    (r"\b(?:hourly|every\s+hour)\b", lambda _: "@hourly"),
    (rf"\b(?:on\s+)?(?:every\s+)?weekdays?\b{_AT}", _weekdays),
    (rf"\b(?:every|on)\s+(?P<day>{_DAYS})s?\b{_AT}", _weekday),
    (rf"\bat\s+(?P<time>{TIME})\s+(?:daily|every\s+day|each\s+day)\b", _daily),
    (rf"\b(?:daily|nightly|every\s+day|each\s+day){_AT}", _daily),
    (r"\b(?:weekly|every\s+week)\b", lambda _: "@weekly"),
    (r"\b(?:monthly|every\s+month)\b", lambda _: "@monthly"),
]


def _at(match: re.Match[str], days: str, default: str) -> str | None:
    if match.group("time") is None:
        return default
    time = re.fullmatch(TIME, match.group("time"), re.IGNORECASE)
    found = clock(time) if time else None
    return f"{found[1]} {found[0]} {days}" if found else None


_RETRY_CLAUSE = re.compile(r"\bretr(?:y|ies)\b[^,.;]*", re.IGNORECASE)


def read_schedule(text: str, parsed: Parsed) -> None:
    """Set `parsed.pipeline['schedule']`; no schedule phrase means a manual pipeline."""
    text = _RETRY_CLAUSE.sub(" ", text)  # "retry 3 times every 10 minutes" is no schedule
    found: dict[str, str] = {}
    taken: list[tuple[int, int]] = []
    for pattern, to_cron in _RULES:
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if any(start <= match.start() < end for start, end in taken):
                continue  # "every 15 minutes" holds no second schedule
            taken.append(match.span())
            cron = to_cron(match)
            if cron is None:
                parsed.questions.append(f"{match.group(0)!r} is not a time I can schedule.")
                return
            found.setdefault(cron, match.group(0))
    if len(found) > 1:
        shown = " or ".join(repr(phrase) for phrase in found.values())
        parsed.questions.append(f"When should it run: {shown}?")
    elif found:
        parsed.pipeline["schedule"] = next(iter(found))
