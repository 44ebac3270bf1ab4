"""Health thresholds (`monitor:`): what `dagsmith health` judges each stream's runs against.

A pipeline's `monitor` sets defaults for its streams (and whether its DAG ends with a
health task); a stream's own `monitor` overrides what it sets. Every threshold left unset
(null) is inherited: from the pipeline, then from the defaults here. So a spec written back
without its defaults means the same (a stream's explicit 4 is not dropped as "the default"
and replaced by its pipeline's 6). A check is switched off with `off` (YAML reads it as
false) and, where the pipeline switched it off, back on with `on`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field

from connectors.spec.base import Duration, SpecModel


@dataclass(frozen=True)
class Volume:
    """Rows loaded, against the median of the recent successful runs and its spread."""

    min_runs: int = 5
    mad: float = 4.0


@dataclass(frozen=True)
class Rejects:
    """Each reject rule's share of the rows read, against its usual share."""

    min_runs: int = 5
    rate: float = 0.05


@dataclass(frozen=True)
class Slowness:
    """How long a run took, against the median of the recent successful runs."""

    min_runs: int = 5
    factor: float = 3.0
    min: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class Thresholds:
    """A stream's health settings, resolved: None where a check is off."""

    history: int = 30
    freshness: timedelta | Literal["schedule"] | None = "schedule"
    last_run: bool = True
    volume: Volume | None = Volume()
    rejects: Rejects | None = Rejects()
    duration: Slowness | None = Slowness()
    watermark_stalled_runs: int | None = 3
    schema_drift: bool = True


DEFAULTS = Thresholds()


def _switch(on: Any) -> BeforeValidator:
    """`off` (false) turns a check off; `on` (true) turns it on as `on` says."""

    def read(value: Any) -> Any:
        if value is False or value == "off":
            return False
        return on if value is True or value == "on" else value

    return BeforeValidator(read)


class VolumeCheck(SpecModel):
    """Rows loaded by the newest successful run, against the recent ones."""

    min_runs: int | None = Field(
        default=None,
        ge=3,
        le=100,
        description="Judge from this successful run on, the judged one included "
        f"(default {Volume.min_runs}).",
    )
    mad: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="How far from the median a count may lie, in median absolute deviations "
        "(scaled to a standard deviation; at least 5% of the median and one row) "
        f"(default {Volume.mad:g}).",
    )


class RejectsCheck(SpecModel):
    """Each reject rule's share of the rows read, against its usual share (the median)."""

    min_runs: int | None = Field(
        default=None,
        ge=2,
        le=100,
        description=f"Judge from this successful run on (default {Rejects.min_runs}).",
    )
    rate: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="How far a rule's share of the rows read may rise above its usual share "
        f"(default {Rejects.rate:g}: five percentage points).",
    )


class DurationCheck(SpecModel):
    """How long the newest successful run took, against the recent ones."""

    min_runs: int | None = Field(
        default=None,
        ge=2,
        le=100,
        description=f"Judge from this successful run on (default {Slowness.min_runs}).",
    )
    factor: float | None = Field(
        default=None,
        gt=1,
        le=1000,
        description=f"A run this many times the median is slow (default {Slowness.factor:g}).",
    )
    min: Duration | None = Field(
        default=None,
        description="A run shorter than this is never called slow: short runs vary a lot "
        "(default 1m).",
    )


class Monitor(SpecModel):
    """Health checks of a stream's runs (docs/monitoring.md); null inherits the pipeline's."""

    enabled: bool | None = Field(default=None, description="false: no health check (default true).")
    history: int | None = Field(
        default=None,
        ge=3,
        le=500,
        description=f"How many recent successful runs to learn from (default {DEFAULTS.history}).",
    )
    freshness: Annotated[Duration | Literal["schedule", False] | None, _switch("schedule")] = Field(
        default=None,
        description="The oldest the last success may be ('26h'). 'schedule' (the default): "
        "a success is due by the schedule's next run after the last success, plus half an "
        "interval and the usual duration (1.5 intervals for a regular cron); no check for a "
        "manual pipeline or one that runs after others. off: never stale.",
    )
    last_run: bool | None = Field(
        default=None,
        description="A stream whose newest attempt failed is unhealthy (default true).",
    )
    volume: Annotated[VolumeCheck | Literal[False] | None, _switch({})] = Field(
        default=None,
        description="Rows loaded far outside the recent range (median and MAD); off: no check.",
    )
    rejects: Annotated[RejectsCheck | Literal[False] | None, _switch({})] = Field(
        default=None,
        description="A reject rule's share of the rows read far above its usual share; off: no "
        "check.",
    )
    duration: Annotated[DurationCheck | Literal[False] | None, _switch({})] = Field(
        default=None, description="A run far slower than the usual ones; off: no check."
    )
    watermark_stalled_runs: Annotated[
        Annotated[int, Field(ge=2, le=1000)] | Literal[False] | None,
        _switch(DEFAULTS.watermark_stalled_runs),
    ] = Field(
        default=None,
        description="This many successful runs in a row that left the watermark (incremental "
        "cursor or source position) where it was (default "
        f"{DEFAULTS.watermark_stalled_runs}); off: no check.",
    )
    schema_drift: bool | None = Field(
        default=None,
        description="Columns the last run's contract added, ignored, retyped or found missing "
        "(default true).",
    )


class PipelineMonitor(Monitor):
    """Health checks: defaults for every stream, and whether the DAG ends with them."""

    task: bool = Field(
        default=False,
        description="End the DAG with a `health` task that runs the checks after the loads; "
        "its failure sends the spec's failure alerts.",
    )


def _monitor_off(value: Any) -> Any:
    """`monitor: off` (false) is `{enabled: false}`."""
    return {"enabled": False} if value is False or value == "off" else value


StreamMonitor = Annotated[Monitor, BeforeValidator(_monitor_off)]
"""A stream's own monitor settings, over its pipeline's."""
PipelineMonitors = Annotated[PipelineMonitor, BeforeValidator(_monitor_off)]
"""A pipeline's monitor settings: its streams' defaults."""

T = TypeVar("T", Volume, Rejects, Slowness)


def thresholds(pipeline: Monitor, stream: Monitor | None) -> Thresholds | None:
    """A stream's resolved settings (None: not monitored): the stream's own, else its
    pipeline's, else the defaults."""
    layers = [pipeline, *([stream] if stream is not None else [])]

    def pick(name: str) -> Any:
        chosen = [value for layer in layers if (value := getattr(layer, name)) is not None]
        return chosen[-1] if chosen else getattr(DEFAULTS, name)

    enabled = [layer.enabled for layer in layers if layer.enabled is not None]
    if enabled and not enabled[-1]:
        return None
    stalled = pick("watermark_stalled_runs")
    freshness = pick("freshness")
    volume = _check(Volume(), [layer.volume for layer in layers])
    rejects = _check(Rejects(), [layer.rejects for layer in layers])
    duration = _check(Slowness(), [layer.duration for layer in layers])
    # A check needs `min_runs - 1` runs before the one it judges: the history holds them.
    needed = [check.min_runs - 1 for check in (volume, rejects, duration) if check is not None]
    return Thresholds(
        history=max([pick("history"), *needed]),
        freshness=None if freshness is False else freshness,
        last_run=pick("last_run"),
        volume=volume,
        rejects=rejects,
        duration=duration,
        watermark_stalled_runs=None if stalled is False else stalled,
        schema_drift=pick("schema_drift"),
    )


def _check(default: T, layers: list[SpecModel | Literal[False] | None]) -> T | None:
    """One check's settings: off when the last layer that says anything says off; else the
    defaults under every layer's values."""
    said = [layer for layer in layers if layer is not None]
    if said and said[-1] is False:
        return None
    values = {f.name: getattr(default, f.name) for f in fields(default)}
    for layer in said:
        if layer is not False:
            # Attributes, not model_dump(): that would serialize a duration back to text.
            said_here = {name: getattr(layer, name) for name in type(layer).model_fields}
            values.update({k: v for k, v in said_here.items() if v is not None})
    return type(default)(**values)
