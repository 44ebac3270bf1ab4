"""The row rules after casting: fill, required and ranges.

Their values (fill values, bounds) are cast once, when the column types are known, with
the same parsing rules as the data; a value that does not fit is a spec error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from connectors.errors import TransformError
from connectors.spec.models import Range, Scalar, Transform
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column
from connectors.types import ColumnType

_SHOWN_ALLOWED = 5
_SHOWN_CHARS = 60


@dataclass(frozen=True)
class Failure:
    """Rows of one column that broke a rule: the reason reads `column 'c': <value> <message>`.

    `values` holds the values to quote (None: the reason names no value).
    """

    column: str
    mask: pa.BooleanArray
    message: str
    values: pa.Array[Any] | None = None


@dataclass(frozen=True)
class Bounds:
    """A `Range` with its values cast to the column's type."""

    low: pa.Scalar[Any] | None
    high: pa.Scalar[Any] | None
    allowed: pa.Array[Any] | None
    spec: Range


@dataclass(frozen=True)
class Checks:
    """fill, required and ranges, resolved against the column types."""

    fill: dict[str, pa.Scalar[Any]]
    required: list[str]
    ranges: dict[str, Bounds]


def check_declared_values(spec: Transform) -> None:
    """Cast the fill and range values of columns with a declared type, before any row.

    Raises:
        TransformError: A value does not fit its column's declared type.
    """
    for column, declared in spec.types.items():
        bound = spec.ranges.get(column)
        given = [("fill", spec.fill[column])] if column in spec.fill else []
        if bound is not None:
            values = (bound.min, bound.max, *(bound.allowed or []))
            given += [("ranges", value) for value in values if value is not None]
        for rule, raw in given:
            typed_value(rule, raw, column, declared.arrow(), declared)


def compile_checks(spec: Transform, schema: pa.Schema) -> Checks:
    """Check the columns that the rules name and cast their values.

    Raises:
        TransformError: A rule names a missing column, or a value does not fit its column.
    """
    for rule, columns in (
        ("fill", spec.fill),
        ("required", spec.required),
        ("ranges", spec.ranges),
    ):
        require_columns(rule, list(columns), schema)

    def value(column: str, raw: Scalar, rule: str = "ranges") -> pa.Scalar[Any]:
        return typed_value(rule, raw, column, schema.field(column).type, spec.types.get(column))

    ranges = {
        column: Bounds(
            low=None if bound.min is None else value(column, bound.min),
            high=None if bound.max is None else value(column, bound.max),
            allowed=_allowed(bound, column, value),
            spec=bound,
        )
        for column, bound in spec.ranges.items()
    }
    fill = {column: value(column, raw, "fill") for column, raw in spec.fill.items()}
    return Checks(fill=fill, required=list(spec.required), ranges=ranges)


def _allowed(
    bound: Range, column: str, value: Callable[[str, Scalar], pa.Scalar[Any]]
) -> pa.Array[Any] | None:
    if bound.allowed is None:
        return None
    scalars = [value(column, raw) for raw in bound.allowed]
    allowed: pa.Array[Any] = pa.array([s.as_py() for s in scalars], scalars[0].type)
    return allowed


def require_columns(rule: str, columns: list[str], schema: pa.Schema) -> None:
    """Raise a TransformError listing the available columns if one is missing."""
    unknown = [column for column in columns if column not in schema.names]
    if unknown:
        raise TransformError(
            f"{rule}: no column {', '.join(map(repr, unknown))}; "
            f"available columns: {', '.join(map(repr, schema.names))}",
            hint="rules after select/drop use the output column names",
        )


def typed_value(
    rule: str, raw: Scalar, column: str, dtype: pa.DataType, declared: ColumnType | None
) -> pa.Scalar[Any]:
    """`raw` as a scalar of the column's Arrow type, parsed like the column's data. Text is
    read in the column's format, else as the type's own rules read it (`min: 2024-01-01` for
    a date written `%d.%m.%Y`); a YAML number or boolean by the type's own rules.

    Raises:
        TransformError: The value does not fit the column's type.
    """
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    target = declared or ColumnType.from_arrow(dtype)
    readings = [target, target.plain] if isinstance(raw, str) and target.format else [target.plain]
    refused = []
    for reading in readings:
        cast = cast_column(pa.array([text]), reading)
        failed = [problem.message for problem in cast.problems if problem.mask[0].as_py()]
        if not failed:
            try:
                scalar: pa.Scalar[Any] = pc.cast(cast.values, dtype)[0]
                return scalar
            except pa.ArrowInvalid as exc:
                failed.append(f"does not fit {dtype}: {exc}")
        refused += failed
    raise TransformError(
        f"{rule}: the value {raw!r} for column {column!r} {' and '.join(dict.fromkeys(refused))}",
        hint=f"give a value of the column's type, {target}",
    )


def fill(batch: pa.RecordBatch, values: dict[str, pa.Scalar[Any]]) -> tuple[pa.RecordBatch, int]:
    """Replace nulls with the fill values; return the batch and how many were filled."""
    filled = 0
    for column, scalar in values.items():
        index = batch.schema.get_field_index(column)
        array = batch.column(index)
        if array.null_count:
            filled += array.null_count
            batch = batch.set_column(index, column, pc.fill_null(array, scalar))
    return batch, filled


def missing_required(batch: pa.RecordBatch, columns: list[str]) -> list[Failure]:
    """Null values in required columns (NaN and infinities kept by `non_finite` too)."""
    failures = []
    for column in columns:
        values = batch.column(column)
        failures.append(Failure(column, pc.is_null(values), "is null but required"))
        if pa.types.is_floating(values.type):
            failures.append(Failure(column, not_finite(values), "is not a finite number", values))
    return failures


def not_finite(values: pa.Array[Any]) -> pa.BooleanArray:
    """NaN, Infinity and -Infinity (false for null and for every other value)."""
    mask: pa.BooleanArray = pc.fill_null(pc.invert(pc.is_finite(values)), False)
    return mask


def nulled_non_finite(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, int]:
    """The batch with NaN and infinities of its float columns made null, and how many."""
    count = 0
    for index, field in enumerate(batch.schema):
        if pa.types.is_floating(field.type):
            values = batch.column(index)
            bad = not_finite(values)
            found = int(pc.sum(bad).as_py() or 0)
            if found:
                count += found
                kept = pc.if_else(bad, pa.scalar(None, field.type), values)
                batch = batch.set_column(index, field.name, kept)
    return batch, count


def null_keys(batch: pa.RecordBatch, keys: list[str]) -> list[Failure]:
    """Null values in upsert key columns: such a row would never match its own key."""
    return [
        Failure(key, pc.is_null(batch.column(key)), "is null, and it is an upsert key")
        for key in keys
        if key in batch.schema.names
    ]


def out_of_range(batch: pa.RecordBatch, ranges: dict[str, Bounds]) -> list[Failure]:
    """Values outside their column's bounds (nulls pass: `required` is for them; NaN and
    infinities never do, as no bound can hold them)."""
    failures = []
    for column, bounds in ranges.items():
        values = batch.column(column)
        tests = [
            (bounds.low, pc.less, f"is below the minimum {bounds.spec.min!r}"),
            (bounds.high, pc.greater, f"is above the maximum {bounds.spec.max!r}"),
        ]
        for bound, compare, message in tests:
            if bound is not None:
                mask = pc.fill_null(compare(values, bound), False)
                failures.append(Failure(column, mask, message, values))
        if pa.types.is_floating(values.type) and (bounds.low or bounds.high or bounds.allowed):
            failures.append(Failure(column, not_finite(values), "is not a finite number", values))
        if bounds.allowed is not None:
            outside = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, bounds.allowed)))
            failures.append(Failure(column, outside, _not_one_of(bounds.spec), values))
    return failures


def _not_one_of(bound: Range) -> str:
    allowed = bound.allowed or []
    shown = ", ".join(repr(value) for value in allowed[:_SHOWN_ALLOWED])
    more = f" (and {len(allowed) - _SHOWN_ALLOWED} more)" if len(allowed) > _SHOWN_ALLOWED else ""
    return f"is not one of the allowed values {shown}{more}"


def failure_reasons(failures: list[Failure], protected: frozenset[str]) -> dict[int, str]:
    """Why each failing row of a batch failed (row index -> reasons joined by `; `),
    quoting its values except a protected column's."""
    reasons: dict[int, list[str]] = {}
    for failure in failures:
        where = pc.indices_nonzero(failure.mask)
        values = None if failure.column in protected else failure.values
        shown = values.take(where).to_pylist() if values is not None else None
        for i, row in enumerate(where.to_pylist()):
            value = shown[i] if shown is not None else None
            reasons.setdefault(row, []).append(_reason(failure, shown is not None, value))
    return {row: "; ".join(found) for row, found in reasons.items()}


def _reason(failure: Failure, quoted: bool, value: object) -> str:
    """Why a row failed, quoting its value unless the value is protected."""
    if not quoted:
        return f"column {failure.column!r} {failure.message}"
    text = value if isinstance(value, str) else str(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    shown = repr(text) if isinstance(value, str) else text
    return f"column {failure.column!r}: {shown} {failure.message}"
