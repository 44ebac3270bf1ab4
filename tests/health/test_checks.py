"""The checks' judgement on histories made here, in memory (no database): when each check
starts judging, its statistics, its `since`, and the settings a stream inherits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.health import checks
from connectors.health.schedule import due, span
from connectors.history import RunRecord, StreamHistory
from connectors.spec.io import dump_spec, parse_spec
from connectors.spec.monitor import Slowness, Thresholds, Volume, thresholds

START = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def record(day: int, loaded: int = 1000, seconds: float = 60.0, **fields: object) -> RunRecord:
    """A committed load of day `day` (from 0) at 06:00 UTC."""
    started = START + timedelta(days=day)
    values: dict[str, object] = {
        "run_id": f"run{day:02d}",
        "pipeline": "shop",
        "stream": "orders",
        "table": "orders",
        "mode": "append",
        "status": "ok",
        "started_at": started,
        "finished_at": started + timedelta(seconds=seconds),
        "rows_read": loaded,
        "rows_filtered": 0,
        "rows_rejected": 0,
        "rows_loaded": loaded,
        "inserted": loaded,
        "updated": 0,
        "watermark_before": None,
        "watermark_after": None,
        "error": None,
        "target": "sqlite:///x.db",
        **fields,
    }
    return RunRecord(**values)  # type: ignore[arg-type]


def judged(runs: list[RunRecord], limits: Thresholds | None = None) -> checks.Judged:
    """The checks' view of `runs` (oldest first), judged a minute after the newest."""
    newest = sorted(runs, key=lambda r: r.started_at, reverse=True)
    history = StreamHistory("orders", newest, [], {})
    now = newest[0].finished_at + timedelta(minutes=1)
    return checks.Judged(history, limits or Thresholds(), "0 6 * * *", False, now)


def test_volume_judges_from_the_fifth_successful_run_on() -> None:
    runs = [record(day) for day in range(4)] + [record(4, loaded=10)]
    (waiting,) = checks.volume(judged(runs[1:]))
    assert (waiting.status, waiting.expected, waiting.seen) == (
        "waiting",
        "5 successful runs to judge from",
        "4 recorded",
    )
    (result,) = checks.volume(judged(runs))
    assert (result.status, result.since) == ("failed", runs[4].started_at)
    assert result.expected == (
        "800 to 1,200 rows loaded (median 1,000 of the 4 successful runs before, ± 4 MADs)"
    )


def test_volume_uses_the_median_and_mad_so_one_outlier_does_not_move_the_range() -> None:
    loads = [1000, 1040, 960, 1010, 990, 50_000, 1020, 980, 1005]  # one burst among them
    runs = [record(day, loaded) for day, loaded in enumerate(loads)]
    (normal,) = checks.volume(judged([*runs, record(9, 1030)]))
    (drop,) = checks.volume(judged([*runs, record(9, 700)]))
    assert (normal.status, drop.status) == ("ok", "failed")


def test_a_lasting_change_is_dated_to_its_first_run_and_then_learnt() -> None:
    steady = [record(day) for day in range(10)]
    jump = [record(10 + day, loaded=5000) for day in range(3)]
    (result,) = checks.volume(judged(steady + jump))
    assert (result.status, result.since) == ("failed", jump[0].started_at)
    # Once the new level is most of the history, it is the usual one.
    lasting = [record(10 + day, loaded=5000) for day in range(16)]
    assert checks.volume(judged(steady + lasting))[0].status == "ok"


def test_a_slow_run_fails_duration_a_short_one_never_does() -> None:
    runs = [record(day, seconds=120) for day in range(6)]
    (slow,) = checks.duration(judged([*runs, record(6, seconds=400)]))
    assert slow.status == "failed"
    assert slow.expected == (
        "at most 6m (3 × the median 2m of the 6 successful runs before; never less than 1m)"
    )
    quick = [record(day, seconds=0.1) for day in range(6)]
    assert checks.duration(judged([*quick, record(6, seconds=50)]))[0].status == "ok"
    strict = Thresholds(duration=Slowness(min=timedelta(0)))
    assert checks.duration(judged([*quick, record(6, seconds=50)], strict))[0].status == "failed"


def test_a_watermark_stalled_for_as_many_runs_as_allowed_fails() -> None:
    moving = [record(0, watermark_before=None, watermark_after="1")]
    stalled = [record(day, watermark_before="1", watermark_after="1") for day in (1, 2)]
    assert checks.watermark(judged(moving + stalled))[0].status == "ok"
    third = record(3, watermark_before="1", watermark_after="1")
    (result,) = checks.watermark(judged([*moving, *stalled, third]))
    assert (result.status, result.since) == ("failed", stalled[0].started_at)
    assert result.seen == "unchanged at '1' for the last 3 successful runs"


def test_a_stream_without_a_watermark_has_no_watermark_check() -> None:
    assert checks.watermark(judged([record(day) for day in range(5)])) == []


@pytest.mark.parametrize(
    ("schedule", "started", "expected"),
    [
        # Daily at 06:00: the next run, then half a day, then the usual two minutes.
        ("0 6 * * *", datetime(2026, 12, 1, 6, 0, 5), datetime(2026, 12, 2, 18, 2)),
        ("@daily", datetime(2026, 12, 1, 0, 0, 5), datetime(2026, 12, 2, 12, 2)),
        ("@hourly", datetime(2026, 12, 1, 6, 0, 5), datetime(2026, 12, 1, 7, 32)),
        # Weekdays: Friday's success is due again on Monday, not over the weekend.
        ("0 6 * * 1-5", datetime(2026, 12, 4, 6, 0, 5), datetime(2026, 12, 7, 18, 2)),
        # A manual run at noon: the next scheduled run is the next morning.
        ("0 6 * * *", datetime(2026, 12, 1, 12, 0), datetime(2026, 12, 2, 18, 2)),
    ],
)
def test_a_success_is_due_by_the_next_run_plus_half_an_interval(
    schedule: str, started: datetime, expected: datetime
) -> None:
    usual = timedelta(minutes=2)
    assert due(schedule, started.replace(tzinfo=UTC), usual) == expected.replace(tzinfo=UTC)


def test_spans_read_as_people_write_them() -> None:
    shown = [span(timedelta(seconds=s)) for s in (0.123, 42, 125, 3 * 3600 + 300, 90000)]
    assert shown == ["0.12 s", "42 s", "2m 5s", "3h 5m", "1d 1h"]


def test_a_stream_inherits_its_pipelines_thresholds_and_overrides_what_it_sets() -> None:
    spec = parse_spec(
        """
pipeline: shop
monitor: {volume: {mad: 6}, duration: off, watermark_stalled_runs: off, freshness: 26h}
streams:
  - {name: a, source: {kind: csv, path: a.csv}, load: {table: a}}
  - name: b
    source: {kind: csv, path: b.csv}
    load: {table: b}
    monitor: {volume: {min_runs: 8}, duration: on, watermark_stalled_runs: 5, history: 60}
  - {name: c, source: {kind: csv, path: c.csv}, load: {table: c}, monitor: off}
  - {name: d, source: {kind: csv, path: d.csv}, load: {table: d}, monitor: {volume: {mad: 4}}}
  - name: e
    source: {kind: csv, path: e.csv}
    load: {table: e}
    monitor: {volume: {min_runs: 50}, rejects: off, history: 10}
  - name: f
    source: {kind: csv, path: f.csv}
    load: {table: f}
    monitor: {volume: off, rejects: off}
"""
    )
    a, b, c, d, e, f = (thresholds(spec.monitor, stream.monitor) for stream in spec.streams)
    assert a == Thresholds(
        freshness=timedelta(hours=26),
        volume=Volume(mad=6),
        duration=None,
        watermark_stalled_runs=None,
    )
    assert b == Thresholds(
        history=60,
        freshness=timedelta(hours=26),
        volume=Volume(min_runs=8, mad=6),
        watermark_stalled_runs=5,
    )
    assert c is None
    assert d is not None and d.volume == Volume(mad=4)
    # The history holds the runs a check needs before the one it judges.
    assert e is not None and (e.history, e.rejects) == (49, None)
    assert f is not None and (f.history, f.volume, f.rejects, f.duration) == (30, None, None, None)
    # Written back without its defaults, the spec means the same: d's explicit 4 stays.
    again = parse_spec(dump_spec(spec))
    assert [thresholds(again.monitor, s.monitor) for s in again.streams] == [a, b, c, d, e, f]
