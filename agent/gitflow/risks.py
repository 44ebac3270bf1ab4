"""Risk flags: what a reviewer of a proposed pipeline should look at twice.

`risk_flags` is a pure function of the spec and of what the pull request found about it
(the source's profile, the dry run), so each rule is tested without a
repository. `replaced_tables` is the one rule that asks the target database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import sqlalchemy as sa
from croniter import croniter

from agent import workspace
from agent.dags.describe import code
from connectors.errors import DagsmithError
from connectors.profiling import Profile
from connectors.profiling.draft import clear_pii
from connectors.spec import AfterSchedule, Pipeline, Stream
from connectors.transforms.names import plan_layout

HOURLY = timedelta(hours=1)
ERROR_CHARS = 200
_RUNS_SEEN = 48
"""Consecutive runs whose gaps are measured: enough to meet every gap a cron day holds."""
_START = datetime(2025, 1, 1, tzinfo=UTC)


def risk_flags(
    spec: Pipeline,
    profiles: Mapping[str, Profile | str],
    dry_run: workspace.DryRun | str,
) -> list[str]:
    """Every rule's flags, in the order a reviewer reads the spec: streams, then operations.

    Args:
        spec: The pipeline proposed.
        profiles: Stream name -> its source's profile, or why it could not be profiled.
        dry_run: The run on a sample, or why it failed.
    """
    flags: list[str] = []
    for stream in spec.streams:
        flags += _stream_flags(stream, profiles.get(stream.name))
    return flags + _operation_flags(spec) + _dry_run_flags(dry_run)


def _stream_flags(stream: Stream, profile: Profile | str | None) -> list[str]:
    load = stream.load
    flags = []
    if load.mode == "replace":
        empty = " (an empty extract empties it: allow_empty_replace)"
        flags.append(
            f"`{stream.name}` replaces the whole content of `{load.table}` on every run"
            + (empty if load.allow_empty_replace else "")
        )
    if isinstance(profile, Profile) and (clear := clear_pii(stream, profile)):
        named = ", ".join(f"{name} ({column.pii_reason})" for name, column in clear.items())
        flags.append(
            f"`{stream.name}` loads likely personal data unprotected: {named}; "
            "protect it (transform.protect: hash, mask, redact or drop; docs/protect.md)"
        )
    if isinstance(profile, Profile) and (repeated := duplicate_keys(stream, profile)):
        flags.append(
            f"`{stream.name}`: {repeated} sampled rows repeat an upsert key "
            f"({', '.join(load.keys)}) and there is no dedupe rule: the last row of each key "
            "wins, silently"
        )
    return flags


def duplicate_keys(stream: Stream, profile: Profile) -> int:
    """Sampled rows repeating an upsert key of a stream without dedupe (0 when none or unknown).

    The profile's quality report counts repeats of the key it finds likeliest, under the
    source's column names; the stream's keys are mapped back to those names to compare.
    """
    if stream.load.mode != "upsert" or stream.transform.dedupe is not None:
        return 0
    try:
        layout = plan_layout(stream.transform, [column.name for column in profile.columns])
    except DagsmithError:
        return 0  # the dry run reports naming rules that do not fit the source
    source_of = {
        name: profile.columns[i].name for i, name in zip(layout.sources, layout.names, strict=True)
    }
    key = ", ".join(source_of.get(name, name) for name in stream.load.keys)
    found = [i.count for i in profile.issues if i.check == "duplicate key" and i.column == key]
    return found[0] if found else 0


def _operation_flags(spec: Pipeline) -> list[str]:
    flags = []
    if spec.retries.count == 0:
        flags.append("no retries: a passing network or database failure fails the run at once")
    if not spec.alerts.on_failure:
        flags.append("no failure alert (alerts.on_failure): a failed run goes unnoticed")
    gap = shortest_interval(spec.schedule)
    if gap is not None and gap < HOURLY:
        minutes = int(gap.total_seconds() // 60)
        flags.append(f"runs more often than hourly (as often as every {minutes} min)")
    return flags


def shortest_interval(schedule: str | AfterSchedule | None) -> timedelta | None:
    """The shortest time between two runs of a schedule; None for a manual or one-off DAG,
    and for one that runs after other pipelines (as often as they load)."""
    if schedule is None or isinstance(schedule, AfterSchedule) or schedule == "@once":
        return None
    runs = croniter(schedule, _START)
    times: list[datetime] = [runs.get_next(datetime) for _ in range(_RUNS_SEEN)]
    return min(later - earlier for earlier, later in pairwise(times))


def _dry_run_flags(dry_run: workspace.DryRun | str) -> list[str]:
    if isinstance(dry_run, str):
        return [f"the dry run failed: {code(dry_run, ERROR_CHARS)}"]
    flags = []
    failed = dry_run.failures()
    for stream in dry_run.summary["streams"]:
        if why := failed.get(stream["stream"]):
            flags.append(f"the dry run of `{stream['stream']}` failed: {code(why, ERROR_CHARS)}")
        elif stream["rows_rejected"]:
            rules = ", ".join(f"{rule} {n}" for rule, n in stream["rejected_by_rule"].items())
            flags.append(
                f"the dry run of `{stream['stream']}` rejected {stream['rows_rejected']} of "
                f"{stream['rows_read']} sampled rows ({rules})"
            )
    return flags


def replaced_tables(spec: Pipeline, project_dir: Path) -> list[str]:
    """A flag per existing table that a replace-mode stream would overwrite.

    The target is asked only when a stream replaces; a target that cannot be reached
    from here is a flag too, since nothing then says the table is new.
    """
    if not any(stream.load.mode == "replace" for stream in spec.streams):
        return []
    where = spec.target or "the embedded DuckDB target"
    try:
        tables = workspace.replaces_existing(spec, project_dir)
    except (DagsmithError, sa.exc.SQLAlchemyError) as exc:
        reason = code(str(exc).splitlines()[0], ERROR_CHARS)
        return [f"cannot tell whether replace mode overwrites tables in {where}: {reason}"]
    return [f"`{table}` already exists in {where} and will be overwritten" for table in tables]
