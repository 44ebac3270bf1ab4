"""What a run report says about one stream, gathered once for the HTML page and the JUnit file:
its counts, its rules with the rows each rejected, its timings and its column lineage."""

from __future__ import annotations

from dataclasses import dataclass

from connectors import kinds
from connectors.lineage.columns import ColumnLineage, derive
from connectors.masking import mask
from connectors.reasons import Reason
from connectors.results import RunSummary, StreamResult
from connectors.spec.models import Pipeline, Stream
from connectors.transforms import upsert_keys

PHASES = ("extract", "transform", "load")


@dataclass(frozen=True)
class Rule:
    """One rule of the stream and the rows it rejected (into `<table>__rejects`)."""

    name: str
    """As the rejects table's `rule` column names it: type, required, range, key, contract,
    or a source's own (ragged, message, ...)."""
    declared: str
    """What the spec says of it (its columns); empty for a rule of the source reader."""
    rows: int
    reasons: list[Reason]


@dataclass(frozen=True)
class StreamFacts:
    """One stream of a run, as its report shows it."""

    pipeline: str
    run_id: str
    result: StreamResult
    stream: Stream
    source: str
    """The source in a few words (its kind's label)."""
    rules: list[Rule]
    lineage: ColumnLineage
    source_columns: list[str]
    target_columns: list[str]

    @property
    def rejects_table(self) -> str:
        """Where the rejected rows are."""
        return f"{self.result.table}__rejects"

    @property
    def kept(self) -> bool:
        """Whether the rejected rows were kept: a failed load rolls them back with it."""
        return self.result.error is None

    @property
    def judged(self) -> bool:
        """Whether the rules judged any row: not when the stream failed (or was skipped as
        committed already) before reading one."""
        return self.result.stats.rows_read > 0 or self.result.status == "ok"

    @property
    def where_rejected(self) -> str:
        """Where the rejected rows are, or that the failed load rolled them back."""
        if self.kept:
            return f"in {self.rejects_table}"
        return f"not kept: the failed load rolled them back (not in {self.rejects_table})"

    @property
    def error(self) -> str | None:
        """Why the stream failed, secrets masked; None when it did not."""
        return mask(str(self.result.error)) if self.result.error is not None else None

    @property
    def phases(self) -> list[tuple[str, float]]:
        """(phase, seconds): extract, transform and load first, then any other stage timed."""
        seconds = self.result.stats.seconds
        order = [*PHASES, *sorted(set(seconds) - set(PHASES))]
        return [(phase, max(seconds[phase], 0.0)) for phase in order if phase in seconds]


def stream_facts(summary: RunSummary, spec: Pipeline) -> list[StreamFacts]:
    """The facts of every stream the run ran, in the order it ran them."""
    return [_facts(summary, spec.stream(result.stream), result) for result in summary.streams]


def _facts(summary: RunSummary, stream: Stream, result: StreamResult) -> StreamFacts:
    stats = result.stats
    source = stats.columns.get("source")
    target = [name for name, _ in stats.columns.get("target", [])]
    return StreamFacts(
        pipeline=summary.pipeline,
        run_id=summary.run_id,
        result=result,
        stream=stream,
        source=kinds.kind_of(stream.source).label(stream.source),
        rules=rules(stream, result),
        lineage=derive(stream, source, target),
        source_columns=[name for name, _ in source or []],
        target_columns=target,
    )


def rules(stream: Stream, result: StreamResult) -> list[Rule]:
    """The rules the spec declares (those that rejected nothing too), then any other rule
    that rejected rows (a source reader's), most rows first."""
    spec = stream.transform
    declared = {
        "type": ", ".join(f"{column} {kind}" for column, kind in spec.types.items()),
        "required": ", ".join(spec.required),
        "range": ", ".join(spec.ranges),
        "key": ", ".join(upsert_keys(stream.load)),
        "contract": "type_change: reject_rows" if stream.contract.type_change != "fail" else "",
    }
    by_rule = result.stats.by_rule
    names = [name for name, text in declared.items() if text]
    names += [name for name, _ in by_rule.most_common() if name not in names]
    return [
        Rule(name, declared.get(name, ""), by_rule[name], result.stats.reasons.of_rule(name))
        for name in names
    ]
