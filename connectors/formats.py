"""How a column's text writes its values: date patterns, number separators, boolean words.

A `ValueFormat` rides on a spec type (`ColumnType.format`) and is written beside it in a
spec: `{type: date, format: "%d.%m.%Y"}`. Which options fit which type is checked where the
two meet (`connectors.spec.types`); `connectors.transforms.formats` reads text with it.
Names follow pandas' `read_csv` (`decimal`, `thousands`, `true_values`, `false_values`) and
Python's strptime (`format`); docs/formats.md compares them with Polars and DuckDB.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

STYLES: dict[str, tuple[str, ...]] = {
    "day_first": ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"),
    "month_first": ("%m/%d/%Y", "%m.%d.%Y", "%m-%d-%Y"),
}
"""The date patterns a named style reads (`iso` is the type's own ISO 8601 rule)."""
STYLE_TIMES = (" %H:%M:%S", " %H:%M", "")
"""What may follow a style's date in a timestamp: a 24-hour time, or nothing (midnight)."""
DIRECTIVES = "YymdeHIMSpbBaAjz%"
"""The strptime directives a `format` may use (those of glibc that Arrow's strptime reads)."""
_DIRECTIVE = re.compile(r"%(.)")
_YAML_WORDS = "yes/no, on/off and true/false"


def _listed(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _words(value: Any) -> Any:
    words = _listed(value)
    if isinstance(words, list | tuple) and any(isinstance(word, bool) for word in words):
        raise ValueError(f"quote the words: YAML reads {_YAML_WORDS} unquoted as booleans")
    return words


# One pattern or word may stand alone; the reference says so (json_schema_input_type).
Patterns = Annotated[
    tuple[str, ...], BeforeValidator(_listed, json_schema_input_type=str | list[str])
]
Words = Annotated[tuple[str, ...], BeforeValidator(_words, json_schema_input_type=str | list[str])]


class ValueFormat(BaseModel):
    """How a column's text writes its values, beside its type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Patterns = Field(
        default=(),
        description=(
            "Dates and timestamps: a strptime pattern such as '%d.%m.%Y' or '%m/%d/%Y %I:%M "
            "%p', or a list of them tried in order (the first that reads a value wins). "
            "Directives: %Y (four digits) %y %m %d %e %H %I %M %S %p %b %B %a %A %j %z %%; "
            "numbers may have no leading zero; %b and %B read English month names."
        ),
    )
    style: Literal["iso", "day_first", "month_first"] | None = Field(
        default=None,
        description=(
            "Dates and timestamps, instead of a pattern: 'day_first' (05/03/2024, 5.3.2024, "
            "05-03-2024), 'month_first' (03/05/2024...), 'iso' (the default, ISO 8601). "
            "A timestamp may add ' HH:MM' or ' HH:MM:SS' to a day_first or month_first date."
        ),
    )
    timezone: str | None = Field(
        default=None,
        description=(
            "Timestamps: the IANA time zone of values written without an offset (and of a "
            "typed source's naive timestamps), e.g. 'Europe/Amsterdam'; they are converted "
            "to UTC. A wall time that does not exist there (skipped by a DST change) is "
            "rejected; one that exists twice is read as the earlier instant."
        ),
    )
    decimal: Literal[".", ","] = Field(default=".", description="Numbers: the decimal separator.")
    thousands: Literal[",", ".", " ", "'", "_", "\u00a0", "\u202f"] | None = Field(
        default=None,
        description=(
            "Numbers: the thousands separator. Where a value has one, every group after the "
            "first has three digits ('1.5' is not a number with thousands '.')."
        ),
    )
    currency: Words = Field(
        default=(),
        description=(
            "Numbers: currency symbols or codes to strip before or after the number (and "
            "its sign), e.g. ['€', 'EUR']."
        ),
    )
    percent: Literal["fraction", "number"] | None = Field(
        default=None,
        description=(
            "Numbers: values are percentages, with or without a trailing '%': 'fraction' "
            "reads 45% as 0.45, 'number' as 45."
        ),
    )
    accounting: bool = Field(
        default=False, description="Numbers: a value in parentheses is negative: (12.50) is -12.50."
    )
    true_values: Words = Field(
        default=(),
        description=(
            "Booleans: words read as true, in any case, besides true/t/yes/1, e.g. [Y, ja, x]."
        ),
    )
    false_values: Words = Field(
        default=(),
        description=(
            "Booleans: words read as false, in any case, besides false/f/no/0, e.g. [N, nee]. "
            "'' reads an empty value (and a missing one) as false."
        ),
    )

    @model_validator(mode="after")
    def _consistent(self) -> ValueFormat:
        if self.format and self.style:
            raise ValueError("give format or style, not both")
        for pattern in self.format:
            check_pattern(pattern)
        if self.timezone is not None:
            _check_zone(self.timezone)
        if self.thousands == self.decimal:
            raise ValueError(f"decimal and thousands are the same character {self.decimal!r}")
        for token in self.currency:
            if not token.strip() or re.search(r"[\d.,+\-()%\s]", token):
                raise ValueError(f"currency {token!r}: a symbol or code, without digits or signs")
        both = {w.lower() for w in self.true_values} & {w.lower() for w in self.false_values}
        if both:
            raise ValueError(f"{', '.join(map(repr, sorted(both)))} is both true and false")
        return self

    def patterns(self, timestamp: bool) -> tuple[str, ...]:
        """The strptime patterns to read with, in order; none for ISO 8601."""
        if self.style is None or self.style == "iso":
            return self.format
        dates = STYLES[self.style]
        if not timestamp:
            return dates
        return tuple(date + time for date in dates for time in STYLE_TIMES)

    def options(self) -> dict[str, Any]:
        """The options set, as a spec writes them (one pattern as text, words as lists)."""
        written: dict[str, Any] = self.model_dump(mode="json", exclude_defaults=True)
        if len(self.format) == 1:
            written["format"] = self.format[0]
        return written

    def describe(self) -> str:
        """The format as a reject reason names it: `format %d.%m.%Y`, `style day_first`,
        `format (decimal ',', thousands '.')`; empty when only a time zone is set."""
        if self.format:
            return "format " + " or ".join(self.format)
        if self.style:
            return f"style {self.style}"
        shown = []
        for key, value in self.options().items():
            if key == "accounting":
                shown.append("accounting (12.50)")
            elif isinstance(value, list):
                shown.append(f"{key} " + "/".join(map(repr, value)))
            elif key != "timezone":
                shown.append(f"{key} {value!r}")
        return f"format ({', '.join(shown)})" if shown else ""


def check_pattern(pattern: str) -> None:
    """Refuse a strptime pattern with no directive, or one Arrow's strptime cannot read."""
    found = _DIRECTIVE.findall(pattern)
    unknown = sorted({d for d in found if d not in DIRECTIVES})
    if unknown:
        hint = " (fractions of a second: ISO 8601 text needs no format)" if "f" in unknown else ""
        raise ValueError(
            f"format {pattern!r}: unsupported directive %{unknown[0]}{hint}; "
            f"supported: {' '.join('%' + d for d in DIRECTIVES)}"
        )
    if not [d for d in found if d != "%"]:
        raise ValueError(f"format {pattern!r} has no directive such as %Y, %m or %d")


def _check_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Amsterdam' or 'UTC'"
        ) from None
