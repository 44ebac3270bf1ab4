"""The checks: each judges a stream's recent run records against its own past.

Every check reads only the records (`connectors.history.StreamHistory`), never the source.
Those that learn from history judge the newest successful run against the runs before it
(at most `history` of them), from the `min_runs`-th successful run on; a failure's `since`
is the first run of the unbroken series of runs that fail the same way, each judged
against the runs before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from connectors.health.model import CheckResult, Outcome, Severity
from connectors.health.schedule import due, span, when
from connectors.history import RunRecord, StreamHistory
from connectors.spec.monitor import Rejects, Thresholds

MAD_SCALE = 1.4826
"""Turns a median absolute deviation into a standard deviation's size (normal data)."""
MIN_SPREAD = 0.05
"""The narrowest spread of a count, as a share of its median: steady counts vary a little."""
SHOWN_CHARS = 200
"""The most characters of an error a finding quotes."""
CRITICAL = {"last_run", "freshness"}
"""Checks whose failure means the data is not there; the others say it may be wrong."""


@dataclass(frozen=True)
class Judged:
    """What the checks of one stream know: its records, its settings, the time now."""

    history: StreamHistory
    limits: Thresholds
    schedule: str | None
    """A time schedule (cron or preset); None for a manual pipeline or one run after others."""
    tracked: bool
    """The stream keeps a watermark (an incremental cursor or a source position)."""
    now: datetime

    @property
    def ok(self) -> list[RunRecord]:
        return self.history.ok

    def result(
        self, check: str, status: Outcome, expected: str, seen: str, since: datetime | None = None
    ) -> CheckResult:
        severity: Severity = "critical" if check in CRITICAL else "warning"
        return CheckResult(check, self.history.stream, status, severity, expected, seen, since)

    def before(self, index: int) -> list[RunRecord]:
        """The successful runs that the one at `index` is judged against."""
        return self.ok[index + 1 : index + 1 + self.limits.history]

    def waiting(self, check: str, runs: int) -> list[CheckResult]:
        expected = f"{runs} successful run{'s' if runs > 1 else ''} to judge from"
        seen = f"{len(self.ok)} recorded"
        return [self.result(check, "waiting", expected, seen)]


def last_run(j: Judged) -> list[CheckResult]:
    """The newest attempt failed: critical, since the first failure after the last success."""
    if not j.limits.last_run:
        return []
    expected = "the newest attempt succeeds"
    if not j.history.failed:
        if not j.ok:
            return j.waiting("last_run", 1)
        return [j.result("last_run", "ok", expected, f"{j.ok[0].run_id} succeeded")]
    newest, first = j.history.failed[0], j.history.failed[-1]
    after = "since the last success" if j.ok else "and no success recorded"
    error = next(iter((newest.error or "").strip().splitlines()), "")[:SHOWN_CHARS]
    seen = f"{len(j.history.failed)} failed attempt(s) {after}; {newest.run_id}: {error}"
    return [j.result("last_run", "failed", expected, seen, first.started_at)]


def freshness(j: Judged) -> tuple[list[CheckResult], float | None]:
    """The last success is older than the schedule (or `freshness`) allows; the limit, in
    seconds of age, goes to the gauges."""
    limit = j.limits.freshness
    if limit is None or (limit == "schedule" and j.schedule is None):
        return [], None
    if not j.ok:
        return j.waiting("freshness", 1), None
    last = j.ok[0]
    if isinstance(limit, timedelta):
        deadline = last.finished_at + limit
        expected = f"a success at most {span(limit)} after the last one, by {when(deadline)}"
    else:
        assert j.schedule is not None
        usual = timedelta(seconds=median(r.seconds for r in j.ok[: j.limits.history]))
        deadline = due(j.schedule, last.started_at, usual)
        expected = (
            f"a success by {when(deadline)} (schedule {j.schedule!r}: its next run after the "
            f"last success, plus half an interval and the usual {span(usual)})"
        )
    seen = f"last success {when(last.finished_at)}, {span(j.now - last.finished_at)} ago"
    late = j.now > deadline
    result = j.result(
        "freshness", "failed" if late else "ok", expected, seen, deadline if late else None
    )
    return [result], (deadline - last.finished_at).total_seconds()


def volume(j: Judged) -> list[CheckResult]:
    """Rows loaded outside the median ± `mad` scaled MADs of the runs before."""
    limits = j.limits.volume
    if limits is None:
        return []
    if len(j.ok) < limits.min_runs:
        return j.waiting("volume", limits.min_runs)

    def side(index: int) -> int:
        before = j.before(index)
        if len(before) < limits.min_runs - 1:
            return 0
        low, _, high = _band([r.rows_loaded for r in before], limits.mad)
        loaded = j.ok[index].rows_loaded
        return -1 if loaded < low else 1 if loaded > high else 0

    before = j.before(0)
    low, middle, high = _band([r.rows_loaded for r in before], limits.mad)
    expected = (
        f"{max(low, 0):,.0f} to {high:,.0f} rows loaded (median {middle:,.0f} of the "
        f"{len(before)} successful runs before, ± {limits.mad:g} MADs)"
    )
    seen = f"{j.ok[0].rows_loaded:,} rows loaded by {j.ok[0].run_id}"
    return [_judged(j, "volume", expected, seen, side)]


def rejects(j: Judged) -> list[CheckResult]:
    """A reject rule's share of the rows read above its usual share (the median of the runs
    before) by more than `rate`: a result for each rule that spiked."""
    limits = j.limits.rejects
    if limits is None:
        return []
    if len(j.ok) < limits.min_runs:
        return j.waiting("rejects", limits.min_runs)
    newest = j.ok[0]
    judged = [_rule(j, limits, rule) for rule in sorted(j.history.rejects.get(newest.run_id, {}))]
    if found := [result for result in judged if result.status == "failed"]:
        return found
    expected = f"no rule rejects more than {limits.rate:.1%} above its usual share"
    seen = f"{newest.rows_rejected:,} of {newest.rows_read:,} rows rejected by {newest.run_id}"
    return [j.result("rejects", "ok", expected, seen)]


def _rule(j: Judged, limits: Rejects, rule: str) -> CheckResult:
    """One reject rule's share in the newest run, against its usual share."""

    def share(run: RunRecord) -> float:
        return j.history.rejects.get(run.run_id, {}).get(rule, 0) / max(run.rows_read, 1)

    def usual(index: int) -> float | None:
        before = j.before(index)
        return median(map(share, before)) if len(before) >= limits.min_runs - 1 else None

    def spiked(index: int) -> int:
        normal = usual(index)
        return int(normal is not None and share(j.ok[index]) - normal > limits.rate)

    newest, normal = j.ok[0], usual(0) or 0.0
    expected = (
        f"rule {rule!r} rejects at most {normal + limits.rate:.1%} of the rows read (its usual "
        f"{normal:.1%} + {limits.rate:.1%})"
    )
    seen = f"{share(newest):.1%} of {newest.rows_read:,} rows read rejected by {newest.run_id}"
    return _judged(j, "rejects", expected, seen, spiked)


def duration(j: Judged) -> list[CheckResult]:
    """A run longer than `factor` times the median of the runs before (and than `min`)."""
    limits = j.limits.duration
    if limits is None:
        return []
    if len(j.ok) < limits.min_runs:
        return j.waiting("duration", limits.min_runs)
    floor = limits.min.total_seconds()

    def limit(index: int) -> float | None:
        before = j.before(index)
        if len(before) < limits.min_runs - 1:
            return None
        return max(limits.factor * median(r.seconds for r in before), floor)

    def slow(index: int) -> int:
        bound = limit(index)
        return int(bound is not None and j.ok[index].seconds > bound)

    before = j.before(0)
    expected = (
        f"at most {span(timedelta(seconds=limit(0) or 0))} ({limits.factor:g} × the median "
        f"{span(timedelta(seconds=median(r.seconds for r in before)))} of the {len(before)} "
        f"successful runs before; never less than {span(limits.min)})"
    )
    seen = f"{span(timedelta(seconds=j.ok[0].seconds))} for {j.ok[0].run_id}"
    return [_judged(j, "duration", expected, seen, slow)]


def watermark(j: Judged) -> list[CheckResult]:
    """The watermark stayed where it was for `watermark_stalled_runs` successful runs."""
    runs = j.limits.watermark_stalled_runs
    if runs is None or not (j.tracked or any(r.watermark_after for r in j.ok)):
        return []
    if not j.ok:
        return j.waiting("watermark", 1)
    stalled = 0
    while stalled < len(j.ok) and j.ok[stalled].watermark_before == j.ok[stalled].watermark_after:
        stalled += 1
    expected = f"the watermark moves at least once in {runs} successful runs"
    mark = j.ok[0].watermark_after
    if stalled < runs:
        return [j.result("watermark", "ok", expected, f"at {mark!r} after {j.ok[0].run_id}")]
    seen = f"unchanged at {mark!r} for the last {stalled} successful runs"
    return [j.result("watermark", "failed", expected, seen, j.ok[stalled - 1].started_at)]


def schema_drift(j: Judged) -> list[CheckResult]:
    """The newest successful run's contract added, ignored, retyped or missed columns."""
    if not j.limits.schema_drift:
        return []
    if not j.ok:
        return j.waiting("schema_drift", 1)
    expected = "the extract has the table's columns"
    drift = j.ok[0].schema_drift
    if not drift:
        return [j.result("schema_drift", "ok", expected, f"no drift in {j.ok[0].run_id}")]
    same = 0
    while same + 1 < len(j.ok) and j.ok[same + 1].schema_drift == drift:
        same += 1
    seen = f"{j.ok[0].run_id}: {j.ok[0].drift}"
    return [j.result("schema_drift", "failed", expected, seen, j.ok[same].started_at)]


def _band(values: list[int], mads: float) -> tuple[float, float, float]:
    """(low, median, high): the median ± `mads` robust spreads (scaled MAD, with a floor)."""
    middle = median(values)
    deviation = median(abs(v - middle) for v in values) * MAD_SCALE
    spread = max(deviation, MIN_SPREAD * middle, 1.0)
    return middle - mads * spread, middle, middle + mads * spread


def _judged(
    j: Judged, check: str, expected: str, seen: str, odd: Callable[[int], int]
) -> CheckResult:
    """The newest run judged by `odd` (0: fine, else the way it is odd); a failure's since
    is the oldest run of the unbroken series odd the same way."""
    way = odd(0)
    if not way:
        return j.result(check, "ok", expected, seen)
    first = 0
    while first + 1 < len(j.ok) and odd(first + 1) == way:
        first += 1
    return j.result(check, "failed", expected, seen, j.ok[first].started_at)
