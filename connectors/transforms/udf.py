"""User steps: `package.module:function`, a pandas DataFrame in and out, once per batch."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from connectors.deferred_pandas import pandas
from connectors.errors import TransformError
from connectors.spec.models import Step

if TYPE_CHECKING:
    import pandas as pd

Function = Callable[["pd.DataFrame"], "pd.DataFrame"]


@dataclass(frozen=True)
class Udf:
    """A loaded step: its place in `steps`, its import path and the function."""

    number: int
    path: str
    function: Function

    @property
    def label(self) -> str:
        """How messages name the step: `step 2 (pkg.mod:func)`."""
        return f"step {self.number} ({self.path})"


def load_steps(steps: list[Step]) -> list[Udf]:
    """Import every step's function, so that a typo fails before any row is read.

    Raises:
        TransformError: A module or function cannot be imported, or is not callable.
    """
    return [_load(number, step.udf) for number, step in enumerate(steps, start=1)]


def _load(number: int, path: str) -> Udf:
    module_name, _, name = path.partition(":")
    label = f"step {number} ({path})"
    try:
        function = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise TransformError(
            f"{label}: cannot import function {name!r} from module {module_name!r}: {exc}",
            hint="check the path `package.module:function` and that the package is installed",
        ) from exc
    if not callable(function):
        raise TransformError(f"{label}: {name!r} is not a function")
    return Udf(number, path, function)


def run_step(udf: Udf, batch: pa.RecordBatch, declared: dict[str, pa.DataType]) -> pa.RecordBatch:
    """Call the step on one batch; its output keeps the declared and incoming column types.

    pandas loses Arrow types on the way (an integer column with a null comes back as
    float), so columns are cast back: to the declared type, else to the type the column
    had before the step. New columns keep the type pandas gives them.

    Raises:
        TransformError: The function raised, returned something else than a DataFrame, or
            a column cannot be cast back.
    """
    pd = pandas()
    try:
        result = udf.function(batch.to_pandas())
    except Exception as exc:
        raise TransformError(
            f"{udf.label} raised {type(exc).__name__}: {exc}",
            hint=f"fix the function {udf.path}; it gets and returns a pandas DataFrame",
        ) from exc
    if not isinstance(result, pd.DataFrame):
        raise TransformError(f"{udf.label} returned {type(result).__name__}, not a DataFrame")
    table = pa.Table.from_pandas(result, preserve_index=False)
    before = {field.name: field.type for field in batch.schema}
    wanted = pa.schema(
        [
            (field.name, declared.get(field.name, before.get(field.name, field.type)))
            for field in table.schema
        ]
    )
    return cast_to(table.combine_chunks(), wanted, udf.label)


def cast_to(table: pa.Table, schema: pa.Schema, what: str) -> pa.RecordBatch:
    """`table` as one batch of `schema`: columns cast by name, missing ones all null.

    Raises:
        TransformError: A column is not in `schema`, cannot be cast to its type, or holds
            a null where `schema` says non-null.
    """
    extra = [name for name in table.column_names if name not in schema.names]
    if extra:
        raise TransformError(
            f"{what} gives column(s) {', '.join(map(repr, extra))} that the first batch "
            f"did not have; columns: {', '.join(map(repr, schema.names))}",
            hint="every batch must have the same columns",
        )
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            arrays.append(_cast(table.column(field.name), field, what))
        else:
            arrays.append(pa.nulls(table.num_rows, field.type))
        if not field.nullable and arrays[-1].null_count:
            # Arrow would take it: a target table and a Parquet file would not.
            raise TransformError(
                f"{what} gives nulls in column {field.name!r}, which the first batch's "
                "source declared non-null",
                hint="give every file of the source the same schema (nullable where nulls are)",
            )
    table = pa.Table.from_arrays(arrays, schema=schema).combine_chunks()
    return next(iter(table.to_batches()), empty_batch(schema))


def _cast(
    column: pa.ChunkedArray[Any], field: pa.Field[pa.DataType], what: str
) -> pa.ChunkedArray[Any]:
    try:
        return column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TransformError(
            f"{what} gives column {field.name!r} as {column.type}, which does not cast "
            f"to {field.type} (its type in the first batch): {exc}",
            hint="declare the column's type in transform.types",
        ) from exc


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    """A batch of no rows (`Table.to_batches` gives none for an empty table)."""
    return pa.RecordBatch.from_arrays([pa.array([], field.type) for field in schema], schema=schema)
