"""The per-stream sections of a pull request's description: profile, schema, transforms,
dry run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from agent.dags.describe import code, describe_filter, fenced, source_label
from connectors.errors import DagsmithError
from connectors.profiling import ColumnProfile, Count, Profile
from connectors.profiling.draft import clear_pii, stream_proposals
from connectors.spec import Range, Stream, Strings
from connectors.spec.models import Pipeline
from connectors.spec.protect import action
from connectors.transforms.names import plan_layout

if TYPE_CHECKING:
    from agent.workspace import DryRun


def profile_section(spec: Pipeline, profiles: Mapping[str, Profile | str]) -> str:
    """Per stream: size, format, candidate keys and cursors, personal data, quality issues."""
    lines = ["### Source profile", ""]
    for stream in spec.streams:
        found = profiles.get(stream.name, "no profile")
        head = f"- `{stream.name}`: {stream.source.kind} {code(source_label(stream.source))}"
        if isinstance(found, str):
            lines.append(f"{head}, not profiled: {code(found, 300)}")
            continue
        lines.append(f"{head}, {_count(found.rows)} rows, {found.sampled_rows} sampled")
        lines += [f"  - {fact}" for fact in _profile_facts(found) + _protection(stream, found)]
    return "\n".join(lines)


def _count(count: Count) -> str:
    if count.value is None:
        return "an unknown number of"
    return f"~{count.value}" if count.estimated else str(count.value)


def _profile_facts(found: Profile) -> list[str]:
    facts = [f"sampling: {found.method}"]
    if found.format:
        facts.append("format: " + ", ".join(f"{k} {code(v)}" for k, v in found.format.items()))
    keys = "; ".join(", ".join(code(c) for c in key) for key in found.keys[:3])
    facts.append(f"candidate keys: {keys or 'none found'}")
    facts.append(f"candidate cursors: {', '.join(map(code, found.cursors)) or 'none found'}")
    if pii := [f"{code(c.name)} ({c.pii_reason})" for c in found.columns if c.pii]:
        facts.append(f"likely personal data: {', '.join(pii)}")
    facts += [
        f"quality: {issue.check} in {code(issue.column)}: {_rows(issue.count)} "
        f"(rule `{issue.rule}`)"
        for issue in found.issues
    ]
    return facts


def _protection(stream: Stream, found: Profile) -> list[str]:
    """Which personal data the stream protects, and the rule to add for what it does not."""
    facts = []
    if protect := stream.transform.protect:
        facts.append("protected: " + ", ".join(f"`{c}` {action(r)}" for c, r in protect.items()))
    if clear := clear_pii(stream, found):
        proposed = stream_proposals(stream, found)
        rules = ", ".join(f"{name}: {rule}" for name, rule in proposed.items())
        facts.append(
            f"**personal data loaded unprotected**: {', '.join(map(code, clear))}"
            + (f"; to protect it, add `transform.protect: {{{rules}}}`" if rules else "")
            + " (docs/protect.md)"
        )
    return facts


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def schema_section(spec: Pipeline, profiles: Mapping[str, Profile | str]) -> str:
    """Per stream, a table of the columns loaded: name, type, origin, sample, rules."""
    parts = ["### Schema"]
    for stream in spec.streams:
        rows, note = _columns(stream, profiles.get(stream.name))
        lines = [f"`{stream.name}` -> `{stream.load.table}`:", ""]
        lines += ["| column | type | source column | sampled as | nulls | rules |"]
        lines += ["|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        parts.append("\n".join(lines) + (f"\n\n{note}" if note else ""))
    return "\n\n".join(parts)


def _columns(stream: Stream, found: Profile | str | None) -> tuple[list[list[str]], str | None]:
    """The table's rows, and a note on how far to trust it."""
    transform = stream.transform
    if not isinstance(found, Profile):
        note = "The source was not profiled: only the declared types are shown."
    else:
        try:
            layout = plan_layout(transform, [column.name for column in found.columns])
        except DagsmithError as exc:
            note = f"The naming rules do not fit the sampled columns: {code(exc.message, 200)}"
        else:
            pairs = zip(layout.sources, layout.names, strict=True)
            rows = [_column_row(stream, name, found.columns[i]) for i, name in pairs]
            return rows, ("User functions may change these columns." if transform.steps else None)
    return [_column_row(stream, name, None) for name in transform.types], note


def _column_row(stream: Stream, name: str, column: ColumnProfile | None) -> list[str]:
    declared = stream.transform.types.get(name)
    kind = f"`{declared}`" if declared else "as read"
    if column is None:
        return [code(name), kind, "", "", "", _rules(stream, name)]
    if not declared:
        kind = f"as read ({column.source_type})"
    guess = column.inferred
    return [
        code(name),
        kind,
        code(column.name) if column.name != name else "",
        f"{guess.type} ({guess.share:.0%})",
        f"{column.null_ratio:.1%}",
        _rules(stream, name),
    ]


def _rules(stream: Stream, name: str) -> str:
    transform, rules = stream.transform, []
    if name in stream.load.keys:
        rules.append("key")
    if transform.dedupe and name in transform.dedupe.keys:
        rules.append(f"dedupe (keep {transform.dedupe.keep})")
    if name in transform.required:
        rules.append("required")
    if name in transform.fill:
        rules.append(f"fill {code(transform.fill[name])}")
    if name in transform.ranges:
        rules.append(_range(transform.ranges[name]))
    if stream.incremental and stream.incremental.cursor == name:
        rules.append("incremental cursor")
    return ", ".join(rules)


def _range(bounds: Range) -> str:
    parts = []
    if bounds.min is not None:
        parts.append(f"min {code(bounds.min)}")
    if bounds.max is not None:
        parts.append(f"max {code(bounds.max)}")
    if bounds.allowed is not None:
        parts.append("one of " + code(", ".join(map(str, bounds.allowed))))
    return " ".join(parts)


def transforms_section(spec: Pipeline) -> str:
    """Per stream, its rules in the order they apply."""
    lines = ["### Transforms", ""]
    for stream in spec.streams:
        lines.append(f"- `{stream.name}`, in this order:")
        lines += [f"  - {rule}" for rule in [*_naming(stream), *_values(stream)]]
    return "\n".join(lines)


def _naming(stream: Stream) -> list[str]:
    transform, rules = stream.transform, []
    if transform.rename:
        pairs = (f"{code(old)} -> `{new}`" for old, new in transform.rename.items())
        rules.append("rename " + ", ".join(pairs))
    rules.append(
        "other column names to snake_case"
        if transform.normalize_names
        else "other column names kept as the source gives them"
    )
    if transform.select is not None:
        rules.append("keep only " + _names(transform.select))
    if transform.drop:
        rules.append("drop " + _names(transform.drop))
    rules.append(_strings(transform.strings))
    if transform.types:
        rules.append(f"cast {len(transform.types)} columns (see the schema): bad values reject")
    return rules


def _values(stream: Stream) -> list[str]:
    transform, rules = stream.transform, []
    if transform.fill:
        fills = (f"`{column}` with {code(value)}" for column, value in transform.fill.items())
        rules.append("fill nulls: " + ", ".join(fills))
    if transform.filter is not None:
        rules.append("keep only rows where " + code(describe_filter(transform.filter), 200))
    if transform.required:
        rules.append("reject rows without " + _names(transform.required))
    if transform.protect:
        protected = (f"`{column}` {action(rule)}" for column, rule in transform.protect.items())
        rules.append("protect personal data (target and rejects): " + ", ".join(protected))
    if transform.ranges:
        bounds = (f"`{column}` {_range(r)}" for column, r in transform.ranges.items())
        rules.append("reject rows outside: " + "; ".join(bounds))
    rules += [f"user function {code(step.udf)}" for step in transform.steps]
    if transform.dedupe:
        rules.append(f"dedupe on {_names(transform.dedupe.keys)}, keep the {transform.dedupe.keep}")
    if (limit := transform.max_rejects) is not None:
        shown = f"{limit:.0%} of the rows" if isinstance(limit, float) else f"{limit} rows"
        rules.append(f"fail the run when more than {shown} are rejected")
    if stream.incremental:
        rules.append(f"read only rows past the last `{stream.incremental.cursor}` loaded")
    return rules


def _names(names: list[str]) -> str:
    return ", ".join(code(name) for name in names)


def _strings(strings: Strings | None) -> str:
    if strings is None:
        return "text values kept as read"
    done = ["trim" if strings.trim else "", "empty as null" if strings.empty_as_null else ""]
    done += [f"{strings.case} case" if strings.case else "", strings.unicode or ""]
    which = _names(strings.columns) if strings.columns is not None else "all text columns"
    return f"text ({which}): " + (", ".join(d for d in done if d) or "unchanged")


def dry_run_section(dry_run: DryRun | str) -> str:
    """Counts per stream, then the reasons rows were rejected and any error."""
    if isinstance(dry_run, str):
        return f"### Dry run\n\nFailed:\n\n{fenced(dry_run)}"
    streams = dry_run.summary["streams"]
    lines = [
        "### Dry run",
        "",
        "The pipeline ran on the first rows of each source into a scratch DuckDB database;",
        "nothing reached the target.",
        "",
        "| stream | status | read | rejected | loaded |",
        "|---|---|---|---|---|",
    ]
    for s in streams:
        counts = f"{s['rows_read']} | {s['rows_rejected']} | {s['rows_loaded']}"
        lines.append(f"| `{s['stream']}` | {s['status']} | {counts} |")
    lines.append("")
    for s in streams:
        for reason, count in dry_run.rejects.get(s["table"], []):
            lines.append(f"- `{s['stream']}` rejected {count}: {code(reason, 120)}")
        if s["error"]:
            lines.append(f"- `{s['stream']}` failed: {code(s['error'], 300)}")
    return "\n".join(lines).rstrip()
