"""`transform.filter`: keep the rows that match, vectorised with Arrow compute.

The filter is compiled once against the first batch's schema: each value is cast to its
column's type (a value that cannot be is a spec error naming the field). A null never
satisfies a test but `is_null`, as in SQL, so each test's null answer counts as false.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from connectors.errors import SpecError, TransformError
from connectors.runtime import Pushdown
from connectors.spec.filter import AllOf, Condition, Filter, filter_columns
from connectors.spec.models import Transform
from connectors.transforms.arrow import pc
from connectors.transforms.names import normalize_name
from connectors.transforms.validate import require_columns, typed_value

Mask = Callable[[pa.RecordBatch], Any]
"""A compiled filter: a batch in, a boolean array (no nulls) out."""

_COMPARE = {
    "=": "equal",
    "!=": "not_equal",
    "<": "less",
    "<=": "less_equal",
    ">": "greater",
    ">=": "greater_equal",
}


def compile_filter(spec: Transform, schema: pa.Schema) -> Mask:
    """The spec's filter as a function of a batch of `schema`.

    Raises:
        TransformError: The filter names a column the batch does not have.
        SpecError: A value cannot be cast to its column's type.
    """
    assert spec.filter is not None
    require_columns("filter", sorted(filter_columns(spec.filter)), schema)
    return _compile(spec.filter, "transform.filter", spec, schema)


def _compile(node: Filter, path: str, spec: Transform, schema: pa.Schema) -> Mask:
    if isinstance(node, Condition):
        return _condition(node, path, spec, schema)
    key, children, combine = (
        ("all", node.all, pc.and_) if isinstance(node, AllOf) else ("any", node.any, pc.or_)
    )
    parts = [
        _compile(child, f"{path}.{key}[{i}]", spec, schema) for i, child in enumerate(children)
    ]

    def combined(batch: pa.RecordBatch) -> Any:
        masks = iter(part(batch) for part in parts)
        result = next(masks)
        for mask in masks:
            result = combine(result, mask)
        return result

    return combined


def _condition(rule: Condition, path: str, spec: Transform, schema: pa.Schema) -> Mask:
    column, dtype = rule.column, schema.field(rule.column).type
    if rule.op in ("is_null", "is_not_null"):
        present = pc.is_null if rule.op == "is_null" else pc.is_valid
        return lambda batch: present(batch.column(column))
    if pa.types.is_null(dtype):  # a column of nulls only: no value can match
        return lambda batch: pa.array([False] * batch.num_rows)
    raw = rule.value if isinstance(rule.value, list) else [rule.value]
    values = [_typed(value, column, dtype, spec, f"{path}.value") for value in raw]
    test = _test(rule.op, values, dtype)
    return lambda batch: _known(batch.column(column), test(batch.column(column)))


def _test(op: str, values: list[Any], dtype: pa.DataType) -> Callable[[Any], Any]:
    """The comparison of a column's values with the (cast) values of a condition."""
    if op in ("in", "not_in"):
        value_set = pa.array([value.as_py() for value in values], dtype)
        return lambda array: _in(array, value_set, negate=op == "not_in")
    if op == "between":
        low, high = values
        return lambda array: pc.and_(pc.greater_equal(array, low), pc.less_equal(array, high))
    compare = getattr(pc, _COMPARE[op])
    return lambda array: compare(array, values[0])


def _in(values: Any, value_set: Any, negate: bool) -> Any:
    found = pc.is_in(values, value_set=value_set)
    return pc.invert(found) if negate else found


def _known(values: Any, mask: Any) -> Any:
    """A test's answer with nulls (an unknown answer) as false, and a null value failing."""
    return pc.and_(pc.fill_null(mask, False), pc.is_valid(values))


def _typed(raw: Any, column: str, dtype: pa.DataType, spec: Transform, path: str) -> Any:
    try:
        return typed_value(path, raw, column, dtype, spec.types.get(column))
    except TransformError as exc:
        raise SpecError(exc.message, hint=exc.hint) from None


def pushdown(spec: Transform) -> Pushdown | None:
    """The part of the filter a database source may apply in its query, if any.

    A test qualifies when its column reaches the filter as the source gave it: not renamed,
    a name that normalize_names keeps, and no fill. The source then keeps only the tests on
    columns it compares exactly as Arrow does, and whose declared type (if any) is the
    source's own; the whole filter still runs on what it reads, so pushing down is only a
    saving, never a change of meaning.
    """
    if spec.filter is None:
        return None
    touched = {*spec.rename, *spec.rename.values(), *spec.fill}

    def untouched(node: Filter) -> bool:
        columns = filter_columns(node)
        return not columns & touched and all(
            not spec.normalize_names or normalize_name(c, 1) == c for c in columns
        )

    parts = spec.filter.all if isinstance(spec.filter, AllOf) else [spec.filter]
    kept = [part for part in parts if untouched(part)]
    if not kept:
        return None
    rule = kept[0] if len(kept) == 1 else AllOf(all=kept)
    columns = filter_columns(rule)
    return Pushdown(rule, {c: t for c, t in spec.types.items() if c in columns})
