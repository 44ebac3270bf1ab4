"""`transform.filter` on real Arrow batches: matching, SQL nulls, casts, counts, errors."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import palmerpenguins
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from connectors.errors import SpecError, TransformError
from connectors.runtime import Pushdown
from connectors.spec.filter import AllOf
from connectors.spec.models import Transform
from connectors.transforms.filter import pushdown
from connectors.types import ColumnType
from tests.test_transforms import Run, batch

PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"

ORDERS = batch(
    order_id=[1, 2, 3, 4, 5, 6],
    amount=["10.50", "75", None, "120.25", "51", "50"],
    status=["paid", "paid", "shipped", "void", "shipped", None],
    country=["NL", "BE", "NL", "DE", None, "NL"],
)


def kept(rule: dict[str, Any], **extra: Any) -> tuple[list[int], Run]:
    run = Run({"filter": rule, "types": {"amount": "decimal(10,2)"}, **extra}, [ORDERS])
    return run.column("order_id"), run


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"column": "amount", "op": ">", "value": 50}, [2, 4, 5]),
        ({"column": "amount", "op": "<=", "value": "50"}, [1, 6]),
        ({"column": "amount", "op": "between", "value": [50, 75]}, [2, 5, 6]),
        ({"column": "status", "op": "=", "value": "paid"}, [1, 2]),
        ({"column": "status", "op": "!=", "value": "paid"}, [3, 4, 5]),
        ({"column": "status", "op": "in", "value": ["paid", "void"]}, [1, 2, 4]),
        ({"column": "status", "op": "not_in", "value": ["paid", "void"]}, [3, 5]),
        ({"column": "country", "op": "is_null"}, [5]),
        ({"column": "amount", "op": "is_not_null"}, [1, 2, 4, 5, 6]),
        (
            {
                "any": [
                    {"column": "country", "op": "=", "value": "BE"},
                    {"column": "amount", "op": ">", "value": 100},
                ]
            },
            [2, 4],
        ),
        (
            {
                "all": [
                    {"column": "amount", "op": ">=", "value": 50},
                    {
                        "any": [
                            {"column": "status", "op": "is_null"},
                            {"column": "country", "op": "=", "value": "BE"},
                        ]
                    },
                ]
            },
            [2, 6],
        ),
    ],
)
def test_filter_keeps_matching_rows_and_nulls_never_match(
    rule: dict[str, Any], expected: list[int]
) -> None:
    ids, run = kept(rule)
    assert ids == expected
    assert run.stats.rows_filtered == 6 - len(expected)
    assert run.stats.rows_rejected == 0 and run.rejected == []


def test_filtered_rows_are_not_rejects_and_rejects_are_not_filtered() -> None:
    data = batch(order_id=[1, 2, 3], amount=["abc", "75", "20"])
    run = Run(
        {"types": {"amount": "integer"}, "filter": {"column": "amount", "op": ">", "value": 50}},
        [data],
    )
    assert run.column("order_id") == [2]
    assert (run.stats.rows_rejected, run.stats.rows_filtered) == (1, 1)
    assert run.rejected[0]["rule"] == "type"


def test_filter_may_read_a_column_that_select_leaves_out() -> None:
    ids, run = kept(
        {"column": "amount", "op": ">", "value": 50}, select=["order_id", "status"], rename={}
    )
    assert ids == [2, 4, 5]
    assert run.batches[0].schema.names == ["order_id", "status"]


def test_filter_runs_after_fill_and_on_renamed_names() -> None:
    run = Run(
        {
            "rename": {"amount": "total"},
            "types": {"total": "decimal(10,2)"},
            "fill": {"total": 0},
            "filter": {"column": "total", "op": "<", "value": 11},
        },
        [ORDERS],
    )
    assert run.column("order_id") == [1, 3]
    assert run.column("total") == [Decimal("10.50"), Decimal("0.00")]


def test_value_that_does_not_fit_the_column_type_names_the_field() -> None:
    rule = {
        "all": [
            {"column": "status", "op": "=", "value": "paid"},
            {"column": "amount", "op": "in", "value": [1, "lots"]},
        ]
    }
    with pytest.raises(SpecError) as caught:
        kept(rule)
    message = str(caught.value)
    assert "transform.filter.all[1].value" in message and "'lots'" in message
    assert "column 'amount'" in message and "decimal(10,2)" in message


def test_filter_on_an_unknown_column_lists_the_columns() -> None:
    with pytest.raises(TransformError, match=r"filter: no column 'amout'; available columns"):
        kept({"column": "amout", "op": ">", "value": 1})


def test_an_empty_source_still_has_the_filtered_columns() -> None:
    empty = pa.record_batch(
        {"order_id": pa.array([], pa.int64()), "amount": pa.array([], pa.string())}
    )
    run = Run(
        {"filter": {"column": "amount", "op": "is_not_null"}, "select": ["order_id"]}, [empty]
    )
    assert run.rows == [] and run.batches[0].schema.names == ["order_id"]


def test_penguins_between_and_in() -> None:
    table = pacsv.read_csv(PENGUINS)
    rule = {
        "all": [
            {"column": "body_mass_g", "op": "between", "value": [3500, 4000]},
            {"column": "species", "op": "in", "value": ["Adelie", "Chinstrap"]},
        ]
    }
    run = Run({"filter": rule}, table.to_batches(max_chunksize=100))
    with PENGUINS.open() as handle:
        expected = [
            row
            for row in csv.DictReader(handle)
            if row["body_mass_g"] != "NA"
            and 3500 <= float(row["body_mass_g"]) <= 4000
            and row["species"] in {"Adelie", "Chinstrap"}
        ]
    assert len(run.rows) == len(expected) > 50
    assert run.stats.rows_filtered == 344 - len(expected)
    assert run.column("island") == [row["island"] for row in expected]


def test_pushdown_keeps_only_tests_on_untouched_source_columns() -> None:
    spec = Transform.model_validate(
        {
            "rename": {"Total": "total"},
            "types": {"day": "date"},
            "filter": {
                "all": [
                    {"column": "total", "op": ">", "value": 1},
                    {"column": "day", "op": ">", "value": "2024-01-01"},
                    {"column": "qty", "op": "between", "value": [1, 5]},
                    {
                        "any": [
                            {"column": "qty", "op": "=", "value": 9},
                            {"column": "total", "op": "=", "value": 2},
                        ]
                    },
                ]
            },
        }
    )
    assert spec.filter is not None and isinstance(spec.filter, AllOf)
    day, qty = spec.filter.all[1:3]
    assert pushdown(spec) == Pushdown(AllOf(all=[day, qty]), {"day": ColumnType("date")})
    assert pushdown(Transform()) is None
