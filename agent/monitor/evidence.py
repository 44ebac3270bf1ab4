"""What a diagnosis rests on: the run, the stream's recent history, its health, its rejects
grouped by value shape, and a marker left by a run that was killed.

`locate` finds the run a TARGET names: a run id (as `dagsmith runs` lists it), or a pipeline
whose latest failed or unhealthy stream run is then taken.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agent import workspace
from agent.monitor.patterns import RejectGroup, group
from connectors import history, running
from connectors.connections import Target
from connectors.errors import ConnectionNotFound, DagsmithError, SpecError
from connectors.health import CheckResult, check_pipeline
from connectors.history import Query, RunNotFound, RunRecord, StreamHistory
from connectors.profiling import Profile
from connectors.running import Marker
from connectors.spec import Pipeline, load_spec
from connectors.spec.io import SUFFIXES
from connectors.spec.models import Stream

HISTORY = 30
"""Committed runs of the stream read as its history."""
REJECT_ROWS = 5000
"""The most rejected rows of a run read to group them."""
SAMPLE_RULE = "on the current sample"
"""The rule of rejects found by a dry run, which tells reasons apart, not rules."""


@dataclass
class Evidence:
    """Everything known about one stream run being diagnosed."""

    spec: Pipeline
    spec_path: Path
    stream: Stream
    target: Target
    record: RunRecord | None
    """The run diagnosed; None for a killed run that left only its marker."""
    history: StreamHistory
    project_dir: Path
    later: list[RunRecord] = field(default_factory=list)
    """The stream's runs after this one, newest first (a recovery shows here)."""
    groups: list[RejectGroup] = field(default_factory=list)
    health: list[CheckResult] = field(default_factory=list)
    marker: Marker | None = None
    """The marker of a run that never finished, when its process is gone."""
    profile: Profile | str | None = None
    """The current source sample's profile, or why it could not be read (`profile_source`)."""

    @property
    def run_id(self) -> str | None:
        """The diagnosed run's id."""
        if self.record is not None:
            return self.record.run_id
        return self.marker.run_id if self.marker else None

    @property
    def failed_checks(self) -> list[CheckResult]:
        """The health checks of the stream that failed."""
        return [result for result in self.health if result.status == "failed"]


def spec_files(paths: list[Path], project_dir: Path) -> list[tuple[Path, Pipeline]]:
    """The specs to look in: the files given, else every valid spec in `pipelines/`.

    Raises:
        SpecError: A given file is invalid, or no valid spec was found.
    """
    if paths:
        return [(path, load_spec(path)) for path in paths]
    folder = project_dir / "pipelines"
    found: list[tuple[Path, Pipeline]] = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.suffix in SUFFIXES:
            try:
                found.append((path, load_spec(path)))
            except SpecError:
                continue  # another spec's problem: `dagsmith check` reports it
    if not found:
        raise SpecError(f"no valid pipeline spec in {folder}/", hint="name one with --spec PATH")
    return found


def locate(target_arg: str, specs: list[tuple[Path, Pipeline]], project_dir: Path) -> Evidence:
    """The evidence of the run `target_arg` names: a pipeline's name or a run id.

    Raises:
        RunNotFound: No spec's target holds a run of that id, and no marker names it (a
            target whose connection is not set is named in the message, not looked in).
        DagsmithError: A target cannot be read.
    """
    for path, spec in specs:
        if spec.pipeline == target_arg:
            return _latest(path, spec, project_dir)
    not_looked_in: list[str] = []
    for path, spec in specs:
        try:
            target = history.target_of(spec.target, project_dir)
        except ConnectionNotFound as exc:
            # A spec deployed elsewhere: another spec's target may still hold the run.
            not_looked_in.append(f"{path}: {exc.message}")
            continue
        found = history.runs(target, Query([spec], run_id=target_arg, limit=None))
        if found:
            # A failed stream first, else one that rejected rows, else the first.
            found.sort(key=lambda r: (r.status != "failed", -r.rows_rejected, r.stream))
            return _gather(path, spec, spec.stream(found[0].stream), target, found[0], project_dir)
        for marker in _dead_markers(spec):
            if marker.run_id == target_arg:
                stream = spec.stream(marker.stream)
                return _gather(path, spec, stream, target, None, project_dir, marker)
    names = ", ".join(spec.pipeline for _, spec in specs)
    skipped = f"; not looked in: {'; '.join(not_looked_in)}" if not_looked_in else ""
    raise RunNotFound(
        f"no run {target_arg!r} and no pipeline of that name (pipelines: {names}){skipped}",
        hint="`dagsmith runs` lists the runs and their ids",
    )


def _latest(path: Path, spec: Pipeline, project_dir: Path) -> Evidence:
    """A pipeline's stream run most worth a look: killed, failed, unhealthy, rejecting rows,
    failed just before the newest success (a recovery); else its newest run (healthy)."""
    target = history.target_of(spec.target, project_dir)
    streams = {s.name: s for s in spec.streams}
    recent = history.recent(target, spec, spec.streams, 2)
    succeeded = {h.stream: h.ok[0].started_at for h in recent if h.ok}
    for marker in _dead_markers(spec):
        # A success started after it supersedes a killed run (rerun under another id).
        if (
            marker.stream in streams
            and succeeded.get(marker.stream, marker.started_at) <= marker.started_at
        ):
            return _gather(path, spec, streams[marker.stream], target, None, project_dir, marker)
    failed = [h for h in recent if h.failed]
    if failed:
        newest = max(failed, key=lambda h: h.failed[0].started_at)
        return _gather(path, spec, streams[newest.stream], target, newest.failed[0], project_dir)
    health = check_pipeline(spec, target)
    for judged in health.streams:
        past = next(h for h in recent if h.stream == judged.stream)
        if judged.findings and past.ok:
            return _gather(path, spec, streams[judged.stream], target, past.ok[0], project_dir)
    rejecting = [h for h in recent if h.ok and h.ok[0].rows_rejected]
    if not rejecting and (recovered := _recovered(target, spec, recent)) is not None:
        return _gather(path, spec, streams[recovered.stream], target, recovered, project_dir)
    chosen = rejecting or [h for h in recent if h.ok] or recent
    last = max(
        chosen, key=lambda h: h.ok[0].started_at if h.ok else datetime.min.replace(tzinfo=UTC)
    )
    record = last.ok[0] if last.ok else None
    return _gather(path, spec, streams[last.stream], target, record, project_dir)


def _recovered(target: Target, spec: Pipeline, recent: list[StreamHistory]) -> RunRecord | None:
    """The newest failed attempt of a stream that has succeeded since (and only once since)."""
    failures = history.runs(target, Query([spec], limit=1, status="failed"))
    if not failures:
        return None
    past = next(h for h in recent if h.stream == failures[0].stream)
    newer = [r for r in past.ok if r.started_at > failures[0].started_at]
    return failures[0] if len(newer) == 1 else None


def _gather(
    path: Path,
    spec: Pipeline,
    stream: Stream,
    target: Target,
    record: RunRecord | None,
    project_dir: Path,
    marker: Marker | None = None,
) -> Evidence:
    """The stream's history, health and (for a committed run) its rejects, grouped."""
    (past,) = history.recent(target, spec, [stream], HISTORY)
    evidence = Evidence(spec, path, stream, target, record, past, project_dir, marker=marker)
    evidence.health = [
        result for judged in check_pipeline(spec, target, stream.name).streams
        for result in judged.results
    ]  # fmt: skip
    if record is None:
        return evidence
    newer = Query([spec], stream.name, record.started_at, limit=None)
    evidence.later = [r for r in history.runs(target, newer) if r.started_at > record.started_at]
    if record.status == "ok" and record.rows_rejected:
        query = Query([spec], stream.name, limit=None, run_id=record.run_id, status="ok")
        (details,) = history.run_details(target, query, REJECT_ROWS)
        evidence.groups = group((s.rule, s.reason, 1) for s in details.samples)
    elif record.rows_rejected:  # a failed load rolled its rejects back: see them on a sample
        try:
            tried = trial(spec, path, stream.name, project_dir, lenient=True)
        except DagsmithError:
            return evidence
        rejected = tried.rejects.get(stream.load.table, [])
        evidence.groups = group((SAMPLE_RULE, reason, rows) for reason, rows in rejected)
    return evidence


def trial(
    spec: Pipeline, spec_path: Path, stream: str, project_dir: Path, lenient: bool = False
) -> workspace.DryRun:
    """One stream of a spec run on the current sample of its source, as `build`'s dry_run
    tool runs it: into a scratch DuckDB database, nothing reaching the target. `lenient`
    lifts the stream's `max_rejects`, so that the rejects are kept to be seen.

    Raises:
        DagsmithError: The source cannot be read.
    """
    chosen = spec.stream(stream)
    if lenient:
        rules = chosen.transform.model_copy(update={"max_rejects": None})
        chosen = chosen.model_copy(update={"transform": rules})
    one = spec.model_copy(update={"streams": [chosen]})
    located = workspace.relocate(one, spec_path.parent.resolve(), project_dir.resolve())
    return workspace.dry_run(located, project_dir)


def _dead_markers(spec: Pipeline) -> list[Marker]:
    """Markers of the pipeline's runs whose process is gone (or ran on another host)."""
    return running.lost(spec.pipeline)


def relative(path: Path, project_dir: Path) -> str:
    """A path as the user would type it from the project folder, when it lies inside."""
    try:
        return str(path.resolve().relative_to(project_dir.resolve()))
    except ValueError:
        return str(path)
