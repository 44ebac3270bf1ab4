"""When a pipeline runs: a rhythm (hourly, daily, weekdays, Mondays...) and a time, each
found wherever it stands ("at 7 every morning", "every morning at 7"), a cron literal, or
after other pipelines ("once the sales pipeline has loaded", "after sales.orders")."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.planner.grammar import TIME, WEEKDAYS, clock
from agent.planner.state import Parsed

_DAY = "|".join(f"{day[:3]}(?:{day[3:]})?s?" for day in WEEKDAYS)
_FIELD = r"[\d*/,-]+|[a-z]{3}(?:-[a-z]{3})?"
_CRON = rf"(?P<cron>(?:(?:{_FIELD})\s+){{4}}(?:{_FIELD}))"


def _minutes(match: re.Match[str]) -> str | None:
    step = int(match.group("n"))
    return None if not 1 <= step <= 59 else "* * * * *" if step == 1 else f"*/{step} * * * *"


def _hours(match: re.Match[str]) -> str | None:
    step = int(match.group("n"))
    return None if not 1 <= step <= 23 else "@hourly" if step == 1 else f"0 */{step} * * *"


def _past(match: re.Match[str]) -> str | None:
    quarter = (match.group("q") or "").lower()
    minute = 15 if quarter.endswith("quarter") else 30 if quarter else None
    minute = minute if minute is not None else int(match.group("n") or match.group("n2"))
    return f"{minute} * * * *" if minute < 60 else None


def _days(match: re.Match[str]) -> str:
    words = re.findall(rf"{_DAY}", match.group(0), re.IGNORECASE)
    numbers = sorted({[d[:3] for d in WEEKDAYS].index(word[:3].lower()) for word in words})
    return ",".join(str(n) for n in numbers)


Rule = tuple[str, Callable[[re.Match[str]], str | None]]
_RHYTHMS: list[Rule] = [
    (rf"\bcron\s*:?\s*[\"'`]?{_CRON}[\"'`]?", lambda m: " ".join(m.group("cron").split())),
    (rf"[\"'`]{_CRON}[\"'`]", lambda m: " ".join(m.group("cron").split())),
    (
        r"\b(?:manual(?:ly)?|on\s+demand|by\s+hand|no\s+schedule|unscheduled|(?:i|we)\s*"
        r"(?:'ll|will|shall)\s+(?:trigger|run|start)\s+it(?:\s+(?:myself|manually|by\s+hand))?)\b",
        lambda m: "manual",
    ),
    (r"\bevery\s+(?P<n>\d+)\s*(?:seconds?|secs?)\b", lambda m: None),
    (r"\bevery\s+(?P<n>\d+)\s*(?:minutes?|mins?)\b", _minutes),
    (r"\bevery\s+minute\b", lambda m: "* * * * *"),
    (r"\bevery\s+(?P<n>\d+)\s*(?:hours?|hrs?)\b", _hours),
    (
        r"\b(?:at\s+)?(?:(?P<n>\d{1,2})\s+(?:minutes?\s+)?|(?P<q>a\s+quarter|half)\s+)past\s+"
        r"(?:the|every|each)\s+hour\b|\bat\s+minute\s+(?P<n2>\d{1,2})\s+of\s+(?:every|each)\s+hour",
        _past,
    ),
    (r"\b(?:hourly|(?:every|each|once\s+an|per)\s+hour)\b", lambda m: "@hourly"),
    (r"\btwice\s+(?:a|per|each)\s+day\b|\btwice\s+daily\b", lambda m: "0 0,12 * * *"),
    (r"\b(?:every|each)\s+(?P<part>morning|evening)\b", lambda m: m.group("part").lower()),
    (
        r"\b(?:daily|nightly|(?:every|each|per)\s+(?:day|night)|once\s+a\s+day)\b",
        lambda m: "daily",
    ),
    (
        r"\b(?:on\s+)?(?:every\s+|each\s+)?(?:weekdays?|working\s+days?|business\s+days?)\b|"
        r"\bmonday\s+(?:to|through|thru|-)\s+friday\b",
        lambda m: "1-5",
    ),
    (
        rf"\b(?:on\s+|every\s+|each\s+)?(?:{_DAY})(?:\s*(?:,|and|&)\s*(?:{_DAY}))*\b",
        _days,
    ),
    (r"\b(?:weekly|(?:every|each|once\s+a|per)\s+week)\b", lambda m: "0"),
    (r"\b(?:monthly|(?:every|each|once\s+a|per)\s+month)\b", lambda m: "monthly"),
]
_AT = re.compile(
    rf"\b(?:at|by)\s+(?:(?P<t>{TIME})(?:\s*o'?clock)?)|\b(?P<t2>\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm))\b"
    r"|\b(?P<t3>\d{1,2}:\d{2})\b",
    re.IGNORECASE,
)
_NAME = r"[a-z][a-z0-9_]{0,62}"
_NAMES = rf"{_NAME}(?:\.{_NAME})?(?:\s*(?:,\s*(?:and\s+)?|and\s+|&\s*){_NAME}(?:\.{_NAME})?)*"
_DONE = (
    r"(?:\s+(?:(?:has|have)\s+(?:been\s+)?)?(?:loaded|finished|run|ran|completed|succeeded|"
    r"updated|new\s+data|(?:is|are)\s+(?:done|loaded|updated)|loads|finishes|completes|"
    r"succeeds|runs))?"
)
_FILES = r"csv|tsv|txt|jsonl?|ndjson|xml|xlsx?|parquet|gz|zip|yaml|yml"
_AFTER = re.compile(
    r"\b(?:(?:right|just|directly)\s+)?(?:after|once|when(?:ever)?)\s+"
    rf"(?:(?:the|both)\s+)?(?P<names>{_NAMES})\s+pipelines?\b{_DONE}"
    rf"|\b(?:after|once|when(?:ever)?)\s+(?P<dotted>{_NAME}\.(?!(?:{_FILES})\b){_NAME})"
    rf"(?![\w./]){_DONE}",
    re.IGNORECASE,
)
_RETRY_CLAUSE = re.compile(
    r"\bretr(?:y|ies)\b(?:\s+(?!and\b)\w+){0,3}?\s+(?:every|after|waiting)\s+\d+\s*[a-z]+",
    re.IGNORECASE,
)


def read_schedule(text: str, parsed: Parsed) -> None:
    """Set `parsed.pipeline['schedule']` (None for a manual pipeline), or ask."""
    # "retry 3 times every 10 minutes" holds no schedule
    hidden = _RETRY_CLAUSE.sub(lambda m: " " * len(m.group(0)), text)
    rhythms: dict[str, str] = {}
    for pattern, meaning in _RHYTHMS:
        for match in re.finditer(pattern, hidden, re.IGNORECASE):
            if not parsed.free_at(match):
                continue
            parsed.use(match)
            found = meaning(match)
            if found is None:
                parsed.ask(f"{match.group(0)!r} is not a time I can schedule.")
                return
            rhythms.setdefault(found, match.group(0))
    times = _times(hidden, parsed)
    after = _after(hidden, parsed)
    if after and (rhythms or times):
        said = " ".join(s.strip() for s in [*rhythms.values(), *times.values()])
        parsed.ask(f"Should it run {said!r}, or after {', '.join(after)} has loaded? Not both.")
    elif after:
        parsed.pipeline["schedule"] = {"after": after}
    elif rhythms or times:
        _combine(rhythms, times, parsed)


def _after(text: str, parsed: Parsed) -> list[str]:
    """The pipelines (or `pipeline.stream`s) the text says to run after."""
    found: list[str] = []
    for match in _AFTER.finditer(text):
        if not parsed.free_at(match):
            continue
        parsed.use(match)
        said = match.group("names") or match.group("dotted")
        names = re.findall(rf"{_NAME}(?:\.{_NAME})?", said.lower())
        found += [name for name in names if name not in {"and", *found}]
    return found


def _times(text: str, parsed: Parsed) -> dict[tuple[int, int] | None, str]:
    found: dict[tuple[int, int] | None, str] = {}
    for match in _AT.finditer(text):
        if not parsed.free_at(match):
            continue
        parsed.use(match)
        said = match.group("t") or match.group("t2") or match.group("t3")
        time = re.fullmatch(TIME, said.strip(), re.IGNORECASE)
        found.setdefault(clock(time) if time else None, match.group(0))
    return found


def _combine(
    rhythms: dict[str, str], times: dict[tuple[int, int] | None, str], parsed: Parsed
) -> None:
    said = [*rhythms.values(), *times.values()]
    if len(rhythms) > 1 or len(times) > 1:
        parsed.ask(f"When should it run: {' or '.join(repr(s) for s in said)}?")
        return
    rhythm = next(iter(rhythms), "daily")
    if None in times:
        parsed.ask(f"{' '.join(said)!r} is not a time I can schedule.")
        return
    time = next(iter(times), None)
    cron = _cron_of(rhythm, time, bool(re.search(r"am|pm", " ".join(said), re.IGNORECASE)))
    if cron is None:
        parsed.ask(f"{' '.join(said)!r} is not a time I can schedule: say 'daily at 7am'.")
    else:
        parsed.pipeline["schedule"] = None if cron == "manual" else cron


def _cron_of(rhythm: str, time: tuple[int, int] | None, half: bool) -> str | None:
    days = re.fullmatch(r"[\d,-]+", rhythm) is not None
    daily = {"daily": "* * *", "morning": "* * *", "evening": "* * *", "monthly": "1 * *"}
    if time is None:
        named = {"daily": "@daily", "monthly": "@monthly", "0": "@weekly"}
        if rhythm in named or rhythm in daily:
            return named.get(rhythm)  # "every morning" says no hour
        return f"0 0 * * {rhythm}" if days else rhythm
    hour, minute = time
    if rhythm == "evening" and not half and hour < 12:
        hour += 12
    if rhythm in daily:
        return f"{minute} {hour} {daily[rhythm]}"
    return f"{minute} {hour} * * {rhythm}" if days else None
