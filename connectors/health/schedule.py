"""When a scheduled stream's next success is due, and times and spans as findings show them."""

from __future__ import annotations

from datetime import datetime, timedelta

from croniter import croniter

from connectors.spec.models import AfterSchedule, Pipeline

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def time_schedule(spec: Pipeline) -> str | None:
    """The spec's cron or preset; None when it has none to keep to (manual, `@once`, or
    run after other pipelines)."""
    schedule = spec.schedule
    if schedule is None or isinstance(schedule, AfterSchedule) or schedule == "@once":
        return None
    return schedule


def due(schedule: str, after: datetime, usual: timedelta) -> datetime:
    """When a success is due, for a stream whose last success started at `after`: the
    schedule's first run after it, plus half the interval that follows that run (Airflow
    may start it late), plus the usual duration. For a daily cron, 1.5 days and the duration
    after the run the last success belonged to; a weekday cron allows for the weekend."""
    ticks = croniter(schedule, after)  # generated DAGs schedule in UTC, as `after` is
    first: datetime = ticks.get_next(datetime)
    second: datetime = ticks.get_next(datetime)
    return first + (second - first) / 2 + usual


def when(moment: datetime) -> str:
    """A time as findings show it: `2026-12-03 06:00:02 UTC`."""
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def span(length: timedelta) -> str:
    """A length of time in its two largest units (`1d 14h`, `3h 5m`, `6m`), or in seconds
    under a minute (`42 s`, `0.12 s`)."""
    seconds = length.total_seconds()
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"
    parts: list[tuple[int, str]] = []
    rest = int(seconds)
    for unit, size in _UNITS:
        if rest >= size or parts:  # from the largest unit there is
            parts.append((rest // size, unit))
            rest %= size
    return " ".join(f"{count}{unit}" for count, unit in parts[:2] if count)
