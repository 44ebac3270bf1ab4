"""Column-level lineage from the spec: which source column each loaded column comes from,
and what the rules did to it on the way.

Derived from the transform's rules and the source's column names (never from values): the
naming rules (rename, normalize_names, select/drop) are resolved by the transform's own
`plan_layout`, so lineage names exactly the columns a run loads. Types, string cleaning,
fill and protect change a column's values (DIRECT transformations); filter, required,
ranges, dedupe and the incremental cursor decide which rows are loaded (INDIRECT, at the
level of the dataset).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.errors import TransformError
from connectors.spec.filter import filter_columns
from connectors.spec.models import Stream, Transform
from connectors.spec.protect import action
from connectors.transforms.names import plan_layout

_TEXT = ("string", "large_string")


@dataclass(frozen=True)
class Step:
    """One transformation, in OpenLineage's terms."""

    type: str
    """DIRECT (the value is computed from the column) or INDIRECT (it decides rows)."""
    subtype: str
    """IDENTITY, TRANSFORMATION (DIRECT); FILTER, GROUP_BY (INDIRECT)."""
    description: str
    how: str
    """The step in a word or two, as an edge of a lineage graph is labelled (`cast bigint`)."""
    masking: bool = False


@dataclass(frozen=True)
class Origin:
    """Where one loaded column comes from."""

    source: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class ColumnLineage:
    """A stream's column lineage: loaded column -> origin, and the columns deciding rows."""

    columns: dict[str, Origin] = field(default_factory=dict)
    rows: tuple[tuple[str, Step], ...] = ()
    """(source column, INDIRECT step) for each column that decides which rows are loaded."""


def derive(
    stream: Stream, source: list[tuple[str, str]] | None, target: list[str]
) -> ColumnLineage:
    """The lineage of the `target` columns, from the stream's rules and the `source` columns
    as read ((name, Arrow type); None when the run read no batch: the spec alone then)."""
    spec = stream.transform
    origins = _origins(spec, [name for name, _ in source] if source else None, target)
    types = dict(source or [])
    columns = {
        column: Origin(origin, _steps(spec, column, origin, types.get(origin, "")))
        for column, origin in origins.items()
        if column in target
    }
    rows = tuple((origins.get(column, column), step) for column, step in _row_steps(stream))
    return ColumnLineage(columns, rows)


def _origins(spec: Transform, source: list[str] | None, target: list[str]) -> dict[str, str]:
    """Loaded (or filtered-on) column -> source column, by the transform's naming rules."""
    if source is not None:
        try:
            layout = plan_layout(spec, source)
        except TransformError:
            layout = None
        if layout is not None:
            return {name: source[i] for i, name in zip(layout.sources, layout.names, strict=True)}
    renamed = {new: old for old, new in spec.rename.items()}
    return {column: renamed.get(column, column) for column in target}


def _steps(spec: Transform, column: str, origin: str, source_type: str) -> tuple[Step, ...]:
    steps = [Step("DIRECT", "IDENTITY", *_naming(spec, column, origin))]
    strings = spec.strings
    if strings is not None and source_type in _TEXT and column in (strings.columns or [column]):
        steps.append(Step("DIRECT", "TRANSFORMATION", "text cleaned (strings)", "strings"))
    if column in spec.types:
        cast = spec.types[column]
        steps.append(Step("DIRECT", "TRANSFORMATION", f"cast to {cast}", f"cast {cast}"))
    if column in spec.fill:
        steps.append(
            Step("DIRECT", "TRANSFORMATION", "nulls filled with a constant (fill)", "fill")
        )
    if column in spec.protect:
        how = action(spec.protect[column])
        steps.append(Step("DIRECT", "TRANSFORMATION", f"protected: {how}", how, masking=True))
    return tuple(steps)


def _naming(spec: Transform, column: str, origin: str) -> tuple[str, str]:
    """How a column got its name: (description, how)."""
    if origin in spec.rename:
        return f"renamed from {origin}", "rename"
    if column == origin:
        return "copied", "copy"
    return f"name normalized from {origin}", "normalize"


def _row_steps(stream: Stream) -> list[tuple[str, Step]]:
    """Columns (named after rename) whose values decide which rows are loaded."""
    spec = stream.transform
    steps: list[tuple[str, Step]] = []
    if spec.filter is not None:
        for column in sorted(filter_columns(spec.filter)):
            steps.append((column, Step("INDIRECT", "FILTER", "filter", "filter")))
    for column in spec.required:
        steps.append(
            (column, Step("INDIRECT", "FILTER", "required: rows without it rejected", "required"))
        )
    for column in spec.ranges:
        steps.append((column, Step("INDIRECT", "FILTER", "ranges: rows outside rejected", "range")))
    if spec.dedupe is not None:
        for column in spec.dedupe.keys:
            keep = spec.dedupe.keep
            steps.append((column, Step("INDIRECT", "GROUP_BY", f"dedupe, keep {keep}", "dedupe")))
    if stream.incremental is not None:
        cursor = stream.incremental.cursor
        past = "incremental: rows past the watermark"
        steps.append((cursor, Step("INDIRECT", "FILTER", past, "incremental")))
    return steps
