"""The deterministic diagnoser: evidence in, a finding, its evidence in words, a proposed
spec change (not yet checked) and what a person must do outside the spec.

A failed run is explained from its error (`agent.monitor.failures`); a committed one from
its rejects, its reads, the rows its keys folded, and its failed health checks. Every value
from a source appears JSON-quoted (`quote`), as in what a model is shown.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import median

from agent.monitor.evidence import Evidence
from agent.monitor.failures import EXPLAIN, dedupe, finding_of, killed, new_column
from agent.monitor.findings import ChangeRequest, Diagnosis, first_line, where
from agent.monitor.patterns import RejectGroup
from agent.orchestrator.profile_view import quote
from connectors.profiling import Profile
from connectors.spec.files import CsvSource
from connectors.spec.types import written as spec_written
from connectors.transforms.names import normalize_name

STALLED_RUNS = 3
"""Committed runs in a row that read nothing: a stalled source."""
DUPLICATE_SHARE = 0.1
"""The share of the rows read that an upsert's keys folded away, from which it is a finding."""


def diagnose(found: Evidence) -> Diagnosis:
    """The finding that explains the evidence best."""
    said = _diagnose(found)
    return replace(said, what_happened=said.what_happened[:1].upper() + said.what_happened[1:])


def _diagnose(found: Evidence) -> Diagnosis:
    record, facts = found.record, _facts(found)
    if found.marker is not None and record is None:
        return killed(found, facts)
    if record is None:
        return Diagnosis("healthy", f"{where(found)} has no recorded run yet.", facts)
    if record.status == "failed":
        finding = finding_of(record.error or "")
        if finding == "run_failed" and found.groups:  # a reject limit: the sample shows why
            return _bad_values(found, facts, found.groups)
        return EXPLAIN[finding](found, facts)
    if bad := [g for g in found.groups if g.rule in ("type", "contract") and g.column]:
        return _bad_values(found, facts, bad)
    read_nothing = found.history.ok[:STALLED_RUNS]
    if len(read_nothing) == STALLED_RUNS and not any(r.rows_read for r in read_nothing):
        return _stalled(found, facts)
    folded = record.rows_read - record.rows_filtered - record.rows_rejected - record.rows_loaded
    if record.rows_read and folded >= max(2, DUPLICATE_SHARE * record.rows_read):
        facts.append(f"{folded} row(s) of the run folded into others by the key")
        keys = found.stream.load.keys
        return dedupe(found, facts, keys, f"folded {folded} rows that share a key")
    for check in found.failed_checks:
        if check.check in _CHECKS:
            return _CHECKS[check.check](found, facts)
    if found.groups:
        return _bad_values(found, facts, found.groups)
    return Diagnosis("healthy", f"{where(found)}: nothing wrong found in {record.run_id}.", facts)


def _facts(found: Evidence) -> list[str]:
    """The run, its error, its rejects and the failed health checks, in words."""
    facts: list[str] = []
    if (r := found.record) is not None:
        facts.append(f"run {r.run_id} ({r.status}): {r.counts}")
        if r.error:
            facts.append(f"error: {quote(first_line(r.error), 300)}")
    for g in found.groups[:5]:
        column = f"column {quote(g.column)} " if g.column else ""
        shown = ", ".join(quote(v) for v in g.values)
        facts.append(f"{g.rows} row(s) rejected by rule {g.rule!r}: {column}held {shown}")
    for check in found.failed_checks:
        facts.append(
            f"health {check.check}: expected {check.expected}; seen {quote(check.seen, 300)}"
        )
    return facts


def _bad_values(found: Evidence, facts: list[str], groups: list[RejectGroup]) -> Diagnosis:
    top = groups[0]
    rows = sum(g.rows for g in groups)
    values = ", ".join(quote(v) for v in top.values)
    told = f"{rows} row(s) of {where(found)} were rejected; the most because column " + (
        f"{quote(top.column)} holds {values}" if top.column else f"rule {top.rule!r} failed"
    )
    change = _value_change(found, groups)
    action = None if change else (
        "no spec change reads these values: correct them at the source, or declare the "
        f"column's type in transform.types.{top.column or '<column>'} as the values are written"
    )  # fmt: skip
    return Diagnosis("bad_values", told + ".", facts, change, action)


def _value_change(found: Evidence, groups: list[RejectGroup]) -> ChangeRequest | None:
    """Null-like values read as null (a CSV's `null_values`); else the type the profile
    finds for the column, with its format, where it differs from the declared one."""
    source = found.stream.source
    nulls = [v for g in groups if g.null_like for v in g.values]
    if nulls and isinstance(source, CsvSource):
        listed = list(dict.fromkeys([*source.null_values, *nulls]))
        shown = ", ".join(quote(v) for v in nulls)
        return ChangeRequest(f"read {shown} as null", {"source.null_values": listed})
    if not isinstance(found.profile, Profile):
        return None
    for g in groups:
        for i, column in enumerate(found.profile.columns, 1):
            if normalize_name(column.name, i) != g.column:
                continue
            written = column.inferred.written()
            declared = found.stream.transform.types.get(g.column)
            # A format the profile reads, or another type ("3750.0" declared integer).
            differs = declared is not None and written != spec_written(declared)
            if column.inferred.format or (column.inferred.type != "string" and differs):
                # Only that column's entry: the others stay as the user wrote them.
                return ChangeRequest(
                    f"read column {quote(g.column)} as the source writes it: {written}",
                    {f"transform.types.{g.column}": written},
                )
    return None


def _stalled(found: Evidence, facts: list[str]) -> Diagnosis:
    facts.append(f"the last {STALLED_RUNS} committed runs read 0 rows")
    bound = "its watermark or the API's filter" if found.stream.incremental else "its filter"
    told = f"{where(found)} read nothing for {STALLED_RUNS} runs in a row."
    action = f"check the source's feed, then {bound} (dagsmith runs shows the watermark)"
    return Diagnosis("source_stalled", told, facts, None, action)


def _volume(found: Evidence, facts: list[str]) -> Diagnosis:
    record = found.record
    assert record is not None
    usual = median([r.rows_loaded for r in found.history.ok[1:]] or [0])
    finding = "volume_drop" if record.rows_loaded < usual else "volume_spike"
    told = f"{where(found)} loaded {record.rows_loaded} rows, against a usual {usual:g}."
    return Diagnosis(finding, told, facts, None, "check with the source whether that is real")


def _slow(found: Evidence, facts: list[str]) -> Diagnosis:
    told = f"{where(found)} ran far longer than it usually does."
    action = "look at the source's and the target's load, or at a table grown large"
    return Diagnosis("slow_run", told, facts, None, action)


_CHECKS = {
    "schema_drift": new_column,
    "watermark": _stalled,
    "volume": _volume,
    "duration": _slow,
}
"""The failed health checks that explain a committed run, in the order they are tried."""
