"""Shared building blocks of the spec: the strict base model and constrained types."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)


class SpecModel(BaseModel):
    """Frozen, and a mistyped or invented field fails loudly with its path."""

    # Python's `re` for `pattern=`, as the constrained types below: the Rust engine's
    # Unicode `\w` costs 0.05 s per pattern to compile, in every process.
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, regex_engine="python-re"
    )


class SourceModel(SpecModel):
    """A source's spec: each kind's model subclasses it and declares `kind` as a `Literal`."""

    if TYPE_CHECKING:
        # Declared by each model, where it keeps its place among the model's fields.
        kind: str


_NAME = r"[a-z][a-z0-9_]{0,62}"
_IDENT = r"[A-Za-z_][A-Za-z0-9_]{0,62}"


def _matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value[:80]!r} is not {what}")
        return value

    return AfterValidator(check)


PipelineName = Annotated[
    str, _matching(_NAME, "a name: lower-case letters, digits and _, starting with a letter")
]
"""A DAG id and file name: lower-case letters, digits and `_`, starting with a letter."""

Identifier = Annotated[
    str, _matching(_IDENT, "an identifier: letters, digits and _, at most 63, not a digit first")
]
"""A column name that reaches SQL: letters, digits, `_`; at most 63 bytes (PostgreSQL's limit)."""

TableName = Annotated[
    str, _matching(rf"({_IDENT}\.)?{_IDENT}", "a table name: 'table' or 'schema.table'")
]
"""`table` or `schema.table`, each part an Identifier."""

ConnectionId = Annotated[
    str, _matching(r"[a-z][a-z0-9_]{0,99}", "a connection id: lower-case letters, digits and _")
]
"""An Airflow connection id; its URL lives in `AIRFLOW_CONN_<ID>`, never in the spec."""

UpstreamOutput = Annotated[
    str,
    _matching(
        rf"{_NAME}(\.{_NAME})?|[a-z][a-z0-9+.-]*://[^\s]{{1,500}}",
        "another pipeline ('pipeline'), one of its streams ('pipeline.stream') or an Asset URI "
        "('postgres://host:5432/db/schema/table')",
    ),
]
"""What a pipeline runs after: another pipeline (every stream's target table), one stream's
(`pipeline.stream`), or an Airflow Asset URI."""

ImportPath = Annotated[
    str, _matching(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", "'package.module:function'")
]
"""`package.module:function`."""


def _column_key(value: str) -> str:
    if not 0 < len(value) <= 255:
        raise ValueError("a column name has 1 to 255 characters")
    return value


ColumnKey = Annotated[str, AfterValidator(_column_key)]
"""A column as the source names it (any text); quoted wherever it reaches SQL."""


def _email(value: str) -> str:
    # pydantic's own check, imported here: `EmailStr` loads email_validator (0.05 s) when
    # the model is built, in every process, for the few specs that send email.
    from pydantic.networks import validate_email

    return validate_email(value)[1]


Email = Annotated[
    str, AfterValidator(_email), WithJsonSchema({"type": "string", "format": "email"})
]
"""An email address, checked (and normalized) as pydantic's `EmailStr` does."""


_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def _parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError("a duration is a number of seconds or text like '30s', '5m', '1h', '2d'")


def format_duration(value: timedelta) -> str:
    """Render a duration the way a spec writes it (`5m`, `1h`, `90s`)."""
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(_parse_duration), PlainSerializer(format_duration)]
