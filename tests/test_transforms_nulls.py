"""A source's non-null fields through the transform: kept by the rules that cannot null a
value, given up by those that can, the same in every batch of a stream."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from connectors.errors import TransformError
from tests.test_transforms import Run


def _source(**columns: tuple[pa.DataType, list[Any]]) -> pa.RecordBatch:
    """A batch whose every field is non-null: columns as name=(type, values)."""
    schema = pa.schema([pa.field(n, t, nullable=False) for n, (t, _) in columns.items()])
    return pa.RecordBatch.from_arrays([pa.array(v, t) for t, v in columns.values()], schema=schema)


def _non_null(run: Run) -> set[str]:
    schemas = {batch.schema for batch in run.batches}
    assert len(schemas) == 1
    return {field.name for field in schemas.pop() if not field.nullable}


def test_rename_select_filter_and_a_typed_cast_keep_non_null() -> None:
    source = _source(
        Id=(pa.int32(), [1, 2, 3]),
        code=(pa.string(), ["a", "b", "c"]),
        at=(pa.timestamp("ns"), [0, 1, 2]),
        gone=(pa.int64(), [7, 8, 9]),
    )
    run = Run(
        {
            "rename": {"code": "sku"},
            "select": ["id", "sku", "at"],
            "strings": None,
            "types": {"id": "bigint", "at": "timestamp", "sku": "string"},
            "filter": {"column": "gone", "op": ">", "value": 7},
            "required": ["sku"],
        },
        [source],
    )
    assert _non_null(run) == {"id", "sku", "at"}
    assert run.column("id") == [2, 3]


def test_empty_text_as_null_gives_up_non_null_on_the_columns_it_touches() -> None:
    source = _source(a=(pa.string(), ["x", ""]), b=(pa.string(), ["y", ""]))
    default = Run({}, [source])
    listed = Run({"strings": {"columns": ["a"]}}, [source])
    kept = Run({"strings": {"empty_as_null": False}}, [source])

    assert (_non_null(default), default.column("a")) == (set(), ["x", None])
    assert _non_null(listed) == {"b"}
    assert _non_null(kept) == {"a", "b"}


def test_a_cast_from_text_gives_up_non_null() -> None:
    # A bad value's row is rejected, but an empty text reads as null: nullable either way.
    source = _source(n=(pa.string(), ["1", "", "x"]), s=(pa.string(), ["1", "", "x"]))
    run = Run({"strings": {"empty_as_null": False}, "types": {"n": "integer"}}, [source])

    assert _non_null(run) == {"s"}
    assert run.column("n") == [1, None]
    assert len(run.rejected) == 1


@pytest.mark.parametrize(("non_finite", "expected"), [("null", set()), ("keep", {"f"})])
def test_nan_as_null_gives_up_non_null_on_float_columns(
    non_finite: str, expected: set[str]
) -> None:
    source = _source(f=(pa.float64(), [1.5, 2.5]))
    assert _non_null(Run({"non_finite": non_finite}, [source])) == expected


def test_a_step_gives_up_non_null() -> None:
    source = _source(a=(pa.int64(), [1, 2]))
    assert _non_null(Run({"steps": [{"udf": "tests.udfs:unchanged"}]}, [source])) == set()


def test_the_schema_is_decided_by_the_rules_not_by_a_batch_values() -> None:
    # Only the second batch has an empty text; both have the same, nullable, schema.
    first = _source(a=(pa.string(), ["x"]))
    second = _source(a=(pa.string(), [""]))
    run = Run({}, [first, second])
    assert _non_null(run) == set()
    assert run.column("a") == ["x", None]


def test_a_later_file_with_nulls_where_the_first_had_none_is_refused() -> None:
    first = _source(a=(pa.int64(), [1]))
    allowed = pa.record_batch({"a": pa.array([2], pa.int64())})
    assert Run({}, [first, allowed]).column("a") == [1, 2]
    with pytest.raises(TransformError, match="nulls in column 'a'"):
        Run({}, [first, pa.record_batch({"a": pa.array([None], pa.int64())})])


def test_a_source_that_gives_a_null_in_a_non_null_field_is_refused() -> None:
    schema = pa.schema([pa.field("a", pa.int64(), nullable=False)])
    lying = pa.RecordBatch.from_arrays([pa.array([1, None], pa.int64())], schema=schema)
    with pytest.raises(TransformError, match="source declares it non-null"):
        Run({}, [lying])
