"""The result of profiling a source: plain dataclasses, JSON-ready through `to_dict`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
