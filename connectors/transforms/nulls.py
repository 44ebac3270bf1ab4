"""Which columns of a transform's output hold no null: the source's non-null fields that
no rule can null.

Decided from the rules and the source's schema, never from the values, so that every
batch of a stream has the same schema: a rule that can turn a value into null (empty text
as null, a cast from text, NaN as null, a step) leaves its column nullable, even in a
batch that holds nothing it would null. Rules that only drop rows or rename keep it.
"""

from __future__ import annotations

import pyarrow as pa

from connectors.errors import TransformError
from connectors.spec.models import Strings, Transform
from connectors.spec.protect import action
from connectors.transforms.casting import is_text, keeps_values
from connectors.transforms.names import Layout


def non_null(spec: Transform, layout: Layout, source: pa.Schema) -> frozenset[str]:
    """The output columns of `layout` that can hold no null, for a source of `source`."""
    if spec.steps:
        return frozenset()  # a step's DataFrame may hold anything
    fields = [source.field(index) for index in layout.sources]
    return frozenset(
        name
        for name, field in zip(layout.names, fields, strict=True)
        if not field.nullable and name not in layout.hidden and not _nulls(spec, name, field.type)
    )


def _nulls(spec: Transform, name: str, dtype: pa.DataType) -> bool:
    """Whether a rule may turn a value of the column into null."""
    if is_text(dtype) and _emptied(spec.strings, name):
        return True
    if name in spec.protect and action(spec.protect[name]) in ("redact", "drop"):
        return True
    declared = spec.types.get(name)
    if declared is not None and not keeps_values(dtype, declared):
        return True
    final = declared.arrow() if declared is not None else dtype
    return spec.non_finite == "null" and pa.types.is_floating(final)


def _emptied(rule: Strings | None, name: str) -> bool:
    """Whether the strings rule turns the column's empty texts into nulls."""
    return rule is not None and rule.empty_as_null and (not rule.columns or name in rule.columns)


def declared_non_null(batch: pa.RecordBatch, names: frozenset[str]) -> pa.RecordBatch:
    """The batch with the columns `names` declared non-nullable (no copy).

    Raises:
        TransformError: One of them holds a null: the source declared a field non-null
            and then gave a null in it.
    """
    if not names:
        return batch
    for name in sorted(names):
        if batch.column(name).null_count:
            raise TransformError(
                f"column {name!r} holds a null, yet the source declares it non-null",
                hint="fix the source's schema: a field that may hold a null is nullable",
            )
    schema = batch.schema
    for name in names:
        index = schema.get_field_index(name)
        schema = schema.set(index, schema.field(index).with_nullable(False))
    return pa.RecordBatch.from_arrays(batch.columns, schema=schema)
