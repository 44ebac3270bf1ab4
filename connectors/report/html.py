"""The run report as one self-contained HTML page: inline CSS and SVG, no script, nothing
fetched (its Content-Security-Policy forbids it), every value escaped by construction."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from connectors import __version__
from connectors.reasons import Reason
from connectors.report.elements import Content, el, html_document
from connectors.report.facts import StreamFacts
from connectors.report.graph import edge_label, lineage_svg
from connectors.report.style import CSS
from connectors.results import RunSummary

TOP_REASONS = 10
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
COUNTS = ("read", "filtered", "rejected", "loaded")


def render(summary: RunSummary, facts: list[StreamFacts]) -> str:
    """The page of a run: an overview of its streams, then a section per stream."""
    title = f"dagsmith run report: {summary.pipeline}"
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", http_equiv="Content-Security-Policy", content=POLICY),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("link", rel="icon", href="data:,"),
        el("title", title),
        el("style", CSS),
    )
    written = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
    body = el(
        "body",
        el("h1", title),
        el(
            "p",
            f"run {summary.run_id} · target {summary.target.label} · written {written} "
            f"by dagsmith {__version__}",
            class_="meta",
        ),
        _overview(facts),
        *(_stream(stream) for stream in facts),
    )
    return html_document(el("html", head, body, lang="en"))


def _counts(facts: StreamFacts) -> tuple[int, ...]:
    stats = facts.result.stats
    loaded = facts.result.load.rows_loaded if facts.result.load else 0
    return (stats.rows_read, stats.rows_filtered, stats.rows_rejected, loaded)


def _overview(facts: list[StreamFacts]) -> Element:
    rows = [
        _row(
            el("a", f.result.stream, href=f"#stream-{f.result.stream}"),
            f.result.table,
            f.result.mode,
            _status(f.result.status),
            *(_number(n) for n in _counts(f)),
            _number(f"{f.result.seconds:.2f}"),
        )
        for f in facts
    ]
    header = ("stream", "table", "mode", "status", *COUNTS, "seconds")
    return el("section", el("h2", "Streams"), _table(header, rows, "overview"))


def _stream(facts: StreamFacts) -> Element:
    result = facts.result
    return el(
        "section",
        el("h2", f"Stream {result.stream} → {result.table} ", _status(result.status)),
        el("p", f"source: {facts.source} · mode: {result.mode}", class_="meta"),
        el("pre", facts.error, class_="error") if facts.error else None,
        _numbers(facts),
        el("h3", "Rules"),
        _rules(facts),
        el("h3", "Top reasons"),
        _reasons(facts),
        el("h3", "Timings"),
        _timings(facts),
        el("h3", "Column lineage"),
        *_lineage(facts),
        id=f"stream-{result.stream}",
        class_="stream",
    )


def _numbers(facts: StreamFacts) -> Element:
    """The row counts as tiles; the load's own split of the loaded rows after them."""
    tiles: list[tuple[str, int]] = list(zip(COUNTS, _counts(facts), strict=True))
    load = facts.result.load
    if load is not None:
        split = [
            ("inserted", load.inserted),
            ("updated", load.updated),
            ("unchanged", load.unchanged),
            ("deduplicated", load.deduplicated),
            ("replaced", load.replaced),
        ]
        tiles += [(name, n) for name, n in split if n]
    return el(
        "dl",
        *(
            el("div", el("dt", name), el("dd", f"{n:,}"), class_=f"tile {name}")
            for name, n in tiles
        ),
        class_="counts",
    )


def _rules(facts: StreamFacts) -> Element:
    if not facts.rules:
        return el("p", "The spec declares no rule that rejects rows.", class_="none")
    rows = [
        _row(
            rule.name,
            rule.declared,
            _number(rule.rows),
            _verdict(rule.rows, facts.judged),
        )
        for rule in facts.rules
    ]
    caption = f"Rejected rows are {facts.where_rejected}."
    return _table(("rule", "columns", "rows rejected", "result"), rows, "rules", caption)


def _verdict(rejected: int, judged: bool) -> Element:
    """A rule as a test: failed when it rejected rows, not run when no row reached it."""
    if rejected:
        return el("span", "failed", class_="failed-rule")
    if not judged:
        return el("span", "not run", class_="not-run")
    return el("span", "passed", class_="passed")


def _reasons(facts: StreamFacts) -> Element:
    top = facts.result.stats.reasons.top(TOP_REASONS)
    if not top:
        return el("p", "No row was rejected.", class_="none")
    rows = [_row(_number(r.count), r.rule, r.text, _samples(r)) for r in top]
    return _table(("rows", "rule", "reason", "sample rows (as rejected)"), rows, "reasons")


def _samples(reason: Reason) -> Element:
    return el(
        "div",
        *(
            el(
                "div",
                el("span", _where(s.row_number), class_="at"),
                " ",
                el("span", s.reason, class_="why"),
                el("pre", s.raw),
                class_="sample",
            )
            for s in reason.samples
        ),
    )


def _where(row_number: int | None) -> str:
    """Where a sample row was rejected: its source data row, or by the load (no number)."""
    return f"row {row_number}" if row_number is not None else "at load"


def _timings(facts: StreamFacts) -> Element:
    phases = facts.phases
    if not phases:
        return el("p", "No phase ran.", class_="none")
    longest = max(seconds for _, seconds in phases) or 1.0
    rows = [
        _row(phase, _number(f"{seconds:.3f}"), _bar(seconds / longest)) for phase, seconds in phases
    ]
    return _table(("phase", "seconds", ""), rows, "timings")


def _bar(share: float) -> Element:
    return el("div", el("div", style=f"width: {share * 100:.1f}%"), class_="bar")


def _lineage(facts: StreamFacts) -> list[Content]:
    lineage = facts.lineage
    if not lineage.columns:
        return [el("p", "No rows reached the load, so no loaded column is known.", class_="none")]
    svg = lineage_svg(facts.result.stream, lineage, facts.source_columns, facts.target_columns)
    mapping = [
        _row(column, origin.source, edge_label(origin))
        for column, origin in lineage.columns.items()
    ]
    deciding = [_row(column, step.how, step.description) for column, step in lineage.rows]
    return [
        el("figure", svg, el("figcaption", "source columns → loaded columns")),
        _table(("loaded column", "source column", "how"), mapping, "mapping"),
        _table(("source column", "rule", "what it decides"), deciding, "deciding")
        if deciding
        else None,
    ]


def _status(status: str) -> Element:
    return el("span", status, class_=f"status {status}")


def _number(value: object) -> Element:
    return el("span", f"{value:,}" if isinstance(value, int) else str(value), class_="num")


def _row(*cells: Content) -> Element:
    return el("tr", *(el("td", cell) for cell in cells))


def _table(
    header: tuple[str, ...], rows: list[Element], kind: str, caption: str | None = None
) -> Element:
    return el(
        "table",
        el("caption", caption) if caption else None,
        el("thead", el("tr", *(el("th", name) for name in header))),
        el("tbody", *rows),
        class_=kind,
    )
