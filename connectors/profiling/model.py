"""The result of profiling a source: plain dataclasses, JSON-ready through `to_dict`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.spec.types import parse_type, written
from connectors.types import ColumnType


@dataclass(frozen=True)
class Count:
    """A number of rows or values, and whether it was counted or estimated."""

    value: int | None
    estimated: bool


@dataclass(frozen=True)
class TypeGuess:
    """A spec type and its evidence: the share of non-null sampled values that parse."""

    type: str
    share: float
    failures: int
    """Non-null sampled values that do not parse as `type`."""
    format: dict[str, Any] = field(default_factory=dict)
    """How the values are written, as the spec's format options (`{"format": "%d.%m.%Y"}`);
    empty when the type's own rules read them."""
    mixed: dict[str, int] = field(default_factory=dict)
    """Sampled values each date pattern reads, when the column mixes several."""
    readings: dict[str, TypeGuess] = field(default_factory=dict)
    """The readings of ambiguous text (`03/05/2024` with no day above 12: `day_first` and
    `month_first`), which the sample cannot choose between: the type is then `string`."""

    def column_type(self) -> ColumnType:
        """The spec type, with its format."""
        return parse_type({"type": self.type, **self.format} if self.format else self.type)

    def written(self) -> str | dict[str, Any]:
        """The type as a spec writes it."""
        return written(self.column_type())

    @property
    def label(self) -> str:
        """The type as a profile shows it: with its format, the counts of a mix of date
        patterns, or the readings of ambiguous text."""
        shown = self.type
        if self.format:
            shown += " (" + ", ".join(_option(k, v) for k, v in self.format.items()) + ")"
        if self.mixed:
            shown += "; mixed: " + ", ".join(f"{p} {n}" for p, n in self.mixed.items())
        if self.readings:
            shown += "; ambiguous: " + " or ".join(
                f"{order} ({reading.label})" for order, reading in self.readings.items()
            )
        return shown


def _option(key: str, value: Any) -> str:
    """An option as a label shows it: patterns bare, words quoted (all of them come from the
    profiler's own lists, never from the source)."""
    if key == "format":
        return "format " + (" or ".join(value) if isinstance(value, list) else str(value))
    return f"{key} " + ("/".join(map(repr, value)) if isinstance(value, list) else repr(value))


@dataclass
class ColumnProfile:
    """What the sample says about one column."""

    name: str
    source_type: str
    """The Arrow type the source gave (text for CSV)."""
    inferred: TypeGuess
    nullable: bool
    null_ratio: float
    distinct: Count
    min: Any = None
    max: Any = None
    top: list[tuple[Any, int]] = field(default_factory=list)
    examples: list[Any] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    pii: bool = False
    pii_reason: str = ""
    """Why the column likely holds personal data: the pattern and its share, or its name."""
    negatives: int = 0
    """Sampled values below zero (numbers only), for the quality report."""


@dataclass(frozen=True)
class Issue:
    """One data-quality finding, and the transform rule that would handle it."""

    check: str
    column: str
    count: int
    rule: str
    detail: str


@dataclass
class Profile:
    """A source's profile: its shape, its columns, and what a pipeline should do with it."""

    source: dict[str, Any]
    """The source spec (as in a pipeline file) that was profiled."""
    rows: Count
    sampled_rows: int
    method: str
    """How the sample was taken: full, head, head+spread+tail, tablesample..."""
    columns: list[ColumnProfile]
    keys: list[list[str]] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    """Columns that grow in source order: an append's cursor, for rows only ever added."""
    modified: list[str] = field(default_factory=list)
    """Timestamps named as a modification time (`updated_at`): the cursors an upsert can
    follow, since they move when a row changes."""
    nested: list[str] = field(default_factory=list)
    format: dict[str, Any] = field(default_factory=dict)
    """Format findings: encoding, delimiter, header, sheets, record paths, pagination, auth."""
    issues: list[Issue] = field(default_factory=list)
    seconds: float = 0.0

    def column(self, name: str) -> ColumnProfile:
        """The column called `name`; KeyError if there is none."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-compatible values (samples rendered as text)."""
        result: dict[str, Any] = _jsonable(asdict(self))
        return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
