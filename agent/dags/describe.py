"""Specs in a few words: a schedule, a source, a stream's flow, a pipeline's one line.

Used where a person reads about a pipeline rather than its YAML: commit subjects and
pull-request descriptions, whose Markdown shows values from a source or a user only through
`code` and `fenced`.
"""

from __future__ import annotations

import re

from connectors.kinds import kind_of
from connectors.spec import (
    AfterSchedule,
    AllOf,
    Condition,
    Filter,
    Load,
    Pipeline,
    SourceSpec,
    Stream,
)

_PRESETS = {
    "@once": "once",
    "@hourly": "hourly",
    "@daily": "daily",
    "@weekly": "weekly",
    "@monthly": "monthly",
    "@yearly": "yearly",
}
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_NUMBER = re.compile(r"\d{1,2}")
_STEP = re.compile(r"\*/(\d{1,2})")
CODE_CHARS = 80
_TICKS = re.compile(r"`+")


def code(value: object, limit: int = CODE_CHARS) -> str:
    """A value as one inline code span: on one line, cut short, no backtick or bare pipe."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def fenced(text: str) -> str:
    """A block of text in a fence longer than any backtick run inside it."""
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def schedule_text(schedule: str | AfterSchedule | None) -> str | None:
    """A schedule as the spec writes it, on one line: the cron, or `after: a.b, c.d`."""
    if isinstance(schedule, AfterSchedule):
        return "after: " + ", ".join(schedule.after)
    return schedule


def describe_schedule(schedule: str | AfterSchedule | None) -> str:
    """`daily at 06:00`, `every 15 minutes`, `weekdays at 07:30`, `after `a.b` has new
    data`...; else the cron itself."""
    if schedule is None:
        return "no schedule (manual runs)"
    if isinstance(schedule, AfterSchedule):
        outputs = " and ".join(code(item) for item in schedule.after)
        return f"after {outputs} {'has' if len(schedule.after) == 1 else 'have'} new data"
    if schedule in _PRESETS:
        return _PRESETS[schedule]
    minute, hour, day, month, weekday = schedule.split()
    cron = f"cron `{schedule}`"
    if (day, month) != ("*", "*"):
        return cron
    if _NUMBER.fullmatch(minute) and _NUMBER.fullmatch(hour) and (days := _days(weekday)):
        return f"{days} at {int(hour):02d}:{int(minute):02d}"
    if weekday != "*":
        return cron
    return _sub_daily(minute, hour) or cron


def _days(weekday: str) -> str | None:
    if weekday == "*":
        return "daily"
    if weekday == "1-5":
        return "weekdays"
    if weekday.isdigit() and int(weekday) <= 6:
        return f"every {_DAYS[int(weekday)]}"
    return None


def _sub_daily(minute: str, hour: str) -> str | None:
    """Schedules that run several times a day: every N minutes, hourly, every N hours."""
    if hour == "*" and minute == "*":
        return "every minute"
    if hour == "*" and (step := _STEP.fullmatch(minute)):
        return f"every {int(step.group(1))} minutes"
    if hour == "*" and _NUMBER.fullmatch(minute):
        return "hourly" if int(minute) == 0 else f"hourly at minute {int(minute)}"
    if (step := _STEP.fullmatch(hour)) and _NUMBER.fullmatch(minute):
        at = f" at minute {int(minute)}" if int(minute) else ""
        return f"every {int(step.group(1))} hours{at}"
    return None


def source_label(source: SourceSpec) -> str:
    """A file's path, an API endpoint or a database table, as the spec names it (its kind's
    `label`); a source of no registered kind is an error."""
    label: str = kind_of(source).label(source)
    return label


def describe_filter(rule: Filter | None) -> str:
    """`amount > 50 and (country = NL or country = BE)`; `none` without a filter."""
    if rule is None:
        return "none"
    if isinstance(rule, Condition):
        return _condition(rule)
    words, parts = (" and ", rule.all) if isinstance(rule, AllOf) else (" or ", rule.any)
    inner = [
        f"({describe_filter(p)})" if not isinstance(p, Condition) else describe_filter(p)
        for p in parts
    ]
    return words.join(inner)


def _condition(rule: Condition) -> str:
    value = rule.value
    if rule.op in ("is_null", "is_not_null"):
        return f"{rule.column} {rule.op.replace('_', ' ')}"
    if rule.op == "between" and isinstance(value, list):
        return f"{rule.column} between {value[0]} and {value[1]}"
    if isinstance(value, list):
        return f"{rule.column} {rule.op.replace('_', ' ')} ({', '.join(map(str, value))})"
    return f"{rule.column} {rule.op} {value}"


def mode_label(load: Load) -> str:
    """`append`, `replace`, or `upsert on order_id, line_no`."""
    return f"upsert on {', '.join(load.keys)}" if load.mode == "upsert" else load.mode


def stream_flow(stream: Stream) -> str:
    """`data/orders.csv -> orders (upsert on order_id)`."""
    return f"{source_label(stream.source)} -> {stream.load.table} ({mode_label(stream.load)})"


def pipeline_line(spec: Pipeline) -> str:
    """What a pipeline moves and when: its one stream's flow, or its streams' tables."""
    if len(spec.streams) == 1:
        what = stream_flow(spec.streams[0])
    else:
        tables = ", ".join(stream.load.table for stream in spec.streams)
        what = f"{len(spec.streams)} streams into {tables}"
    return f"{what}, {describe_schedule(spec.schedule)}"


def pipeline_summary(spec: Pipeline) -> str:
    """A pipeline as it now is, in a sentence: what it moves and when, and each stream's
    filter, required columns and renames."""
    parts = [pipeline_line(spec)]
    for stream in spec.streams:
        rules = stream.transform
        named = f"{stream.name} " if len(spec.streams) > 1 else ""
        if rules.filter is not None:
            parts.append(f"{named}keeps rows where {describe_filter(rules.filter)}")
        if rules.required:
            parts.append(f"{named}drops rows without {', '.join(rules.required)}")
        if rules.rename:
            renames = ", ".join(f"{old} to {new}" for old, new in rules.rename.items())
            parts.append(f"{named}renames {renames}")
    return ("; ".join(parts) + ".")[:2000]
