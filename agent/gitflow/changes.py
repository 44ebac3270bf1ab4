"""What changed between two versions of a pipeline spec, in sentences a reviewer reads.

`changes(old, new)` walks the tables of `agent.gitflow.change_rules` over both specs: streams added
or removed, sources, columns and types, keys, write mode, schedule, target, retries, alerts,
and connections or hosts the pipeline newly reaches. A change that can lose, overwrite or
duplicate rows, silence an alert or reach a new place is flagged as a risk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from agent.dags.describe import schedule_text
from agent.gitflow.change_rules import (
    ACCESS_ENTRIES,
    ALERT_ENTRIES,
    PIPELINE_ASPECTS,
    REACH_ENTRIES,
    STREAM_ASPECTS,
    STREAM_ENTRIES,
    Aspect,
    Entries,
    shown,
)
from connectors.profiling.patterns import pii_reason
from connectors.spec import Pipeline, Stream

Finding = tuple[str, str | None]
"""A sentence, and why it is a risk (None: it is not)."""


@dataclass(frozen=True)
class Change:
    """One thing that changed in a pipeline, said in a sentence.

    Attributes:
        pipeline: The pipeline's name.
        stream: The stream it concerns, or None for the whole pipeline.
        text: The sentence, prefixed with the stream's name; a risk's reason in parentheses.
        risk: Whether a reviewer should look twice (data lost, overwritten or duplicated,
            an alert gone, a new connection or host).
    """

    pipeline: str
    stream: str | None
    text: str
    risk: bool = False


def changes(old: Pipeline | None, new: Pipeline | None) -> list[Change]:
    """What changed from `old` to `new`; None means the pipeline does not exist on that side.

    Pipeline-wide changes come first, then each stream's, in the order of `new`.
    """
    if new is None:
        if old is None:
            return []
        return [Change(old.pipeline, None, "pipeline removed (its tables stay)", risk=True)]
    found: list[Finding] = []
    if old is None:
        found.append((f"new pipeline: {_summary(new)}", None))
    else:
        found += _aspects(PIPELINE_ASPECTS, old, new)
        found += _entries(ALERT_ENTRIES + ACCESS_ENTRIES, old, new)
    # An added pipeline is compared with nothing here: every connection and host is new.
    found += _entries(REACH_ENTRIES, old, new)
    result = [_change(new.pipeline, None, finding) for finding in found]
    streams = _streams(old.streams if old else [], new.streams)
    return result + [_change(new.pipeline, name, finding) for name, finding in streams]


def _change(pipeline: str, stream: str | None, finding: Finding) -> Change:
    text, reason = finding
    text = f"{stream}: {text}" if stream else text
    return Change(pipeline, stream, f"{text} ({reason})" if reason else text, reason is not None)


def _aspects(table: tuple[Aspect, ...], old: Any, new: Any) -> Iterator[Finding]:
    for aspect in table:
        before, after = aspect.get(old), aspect.get(new)
        if before != after:
            text = f"{aspect.label} {aspect.show(before)} -> {aspect.show(after)}"
            yield text, aspect.risk(before, after)


def _entries(table: tuple[Entries, ...], old: Any | None, new: Any) -> Iterator[Finding]:
    for rows in table:
        before = rows.get(old) if old is not None else {}
        after = rows.get(new)
        for key in [*after, *(key for key in before if key not in after)]:
            values = {"key": shown(key)}
            values |= {"old": rows.show(before[key])} if key in before else {}
            values |= {"new": rows.show(after[key])} if key in after else {}
            if key not in before:
                yield rows.added.format(**values), rows.risk_added
            elif key not in after:
                yield rows.removed.format(**values), rows.risk_removed
            elif before[key] != after[key] and rows.changed:
                yield rows.changed.format(**values), rows.risk_changed


def _streams(old: list[Stream], new: list[Stream]) -> Iterator[tuple[str, Finding]]:
    before = {stream.name: stream for stream in old}
    after = {stream.name for stream in new}
    for stream in new:
        if stream.name not in before:
            yield stream.name, (f"new stream: {_describe(stream)}", None)
            yield from ((stream.name, finding) for finding in _unprotected(None, stream))
            continue
        for finding in _stream(before[stream.name], stream):
            yield stream.name, finding
    for stream in old:
        if stream.name not in after:
            table = shown(stream.load.table)
            yield stream.name, ("stream removed", f"table {table} is no longer loaded; it stays")


def _stream(old: Stream, new: Stream) -> Iterator[Finding]:
    yield from _source(old, new)
    yield from _aspects(STREAM_ASPECTS, old, new)
    yield from _entries(STREAM_ENTRIES, old, new)
    yield from _select(old.transform.select, new.transform.select)
    yield from _unprotected(old, new)


def named_pii(stream: Stream) -> set[str]:
    """Columns the spec names whose names suggest personal data and that it loads in the
    clear: what a review can tell without reading the source."""
    transform = stream.transform
    named = {
        *transform.types,
        *transform.rename.values(),
        *(transform.select or []),
        *transform.required,
        *stream.load.keys,
    }
    return {
        name
        for name in named
        if pii_reason(name, {}) and name not in transform.protect and name not in transform.drop
    }


def _unprotected(old: Stream | None, new: Stream) -> Iterator[Finding]:
    """Columns whose names suggest personal data, newly loaded in the clear."""
    before = named_pii(old) if old is not None else set()
    for column in sorted(named_pii(new) - before):
        yield (
            f"loads column {shown(column)} unprotected",
            "its name suggests personal data: protect it with transform.protect",
        )


# Source fields shown with their values; other settings are only named (a query is long).
_SOURCE_SHOWN = ("kind", "path", "connection", "table", "endpoint", "method", "records_path")


def _source(old: Stream, new: Stream) -> Iterator[Finding]:
    before = old.source.model_dump(mode="json", by_alias=True)
    after = new.source.model_dump(mode="json", by_alias=True)
    differ = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    for key in (key for key in _SOURCE_SHOWN if key in differ):
        yield f"source {key} {shown(before.get(key))} -> {shown(after.get(key))}", None
    if others := sorted(key for key in differ if key not in _SOURCE_SHOWN):
        yield f"source settings changed: {', '.join(others)}", None


def _select(old: list[str] | None, new: list[str] | None) -> Iterator[Finding]:
    """`select` is special: None keeps every column, a list keeps only those."""
    if old == new:
        return
    if new is None:
        yield "keeps every column again (no select)", None
    elif old is None:
        yield f"keeps only columns {shown(new)}", "other columns no longer reach the table"
    else:
        lost = "its data no longer reaches the table"
        yield from ((f"column {shown(c)} no longer selected", lost) for c in old if c not in new)
        yield from ((f"column {shown(c)} selected", None) for c in new if c not in old)


def _summary(spec: Pipeline) -> str:
    schedule = shown(text) if (text := schedule_text(spec.schedule)) else "manual"
    target = shown(spec.target) if spec.target else "embedded DuckDB"
    return f"{len(spec.streams)} stream(s), schedule {schedule}, target {target}"


def _describe(stream: Stream) -> str:
    source = stream.source
    place = getattr(source, "path", None) or getattr(source, "endpoint", None)
    where = shown(place or getattr(source, "table", None) or "query")
    conn = getattr(source, "connection", None)
    via = f" via connection {shown(conn)}" if conn else ""
    keys = f" on {shown(stream.load.keys)}" if stream.load.keys else ""
    table = shown(stream.load.table)
    return f"{source.kind} {where}{via} -> table {table}, {stream.load.mode}{keys}"
