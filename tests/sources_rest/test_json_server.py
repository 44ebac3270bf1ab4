"""Against json-server, a REST server nobody here wrote: pages, offsets, Link headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.errors import SourceError
from tests.sources_rest.conftest import ORDERS, read_table, spec


@pytest.fixture(autouse=True)
def _connection(json_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_API", json_server)


def test_page_number_until_an_empty_page(tmp_path: Path) -> None:
    source = spec(
        endpoint="orders",
        pagination={"type": "page_number", "param": "_page", "size_param": "_limit", "size": 10},
    )
    table = read_table(source, tmp_path, batch_rows=7)
    assert table.column("id").to_pylist() == list(range(1, 26))
    assert table.column("customer_address_city").to_pylist()[:2] == ["Lyon", "Oslo"]
    assert table.schema.field("amount").type == "double"


def test_offset_and_limit(tmp_path: Path) -> None:
    source = spec(
        endpoint="orders",
        pagination={
            "type": "offset",
            "offset_param": "_start",
            "limit_param": "_limit",
            "limit": 7,
        },
    )
    assert read_table(source, tmp_path).column("id").to_pylist() == list(range(1, 26))


def test_link_header(tmp_path: Path) -> None:
    source = spec(
        endpoint="orders", params={"_page": 1, "_limit": 10}, pagination={"type": "link_header"}
    )
    assert read_table(source, tmp_path).num_rows == 25


def test_nested_objects_as_json_text(tmp_path: Path) -> None:
    table = read_table(spec(endpoint="orders", flatten="json"), tmp_path)
    assert table.column_names == ["id", "amount", "customer", "tags"]
    assert json.loads(table.column("customer")[0].as_py()) == ORDERS[0]["customer"]
    assert table.column("tags")[2].as_py() == '["a", "b"]'


def test_jsonpath_filter_selects_records(tmp_path: Path) -> None:
    table = read_table(spec(endpoint="orders", records="$[?(@.amount > 55)]"), tmp_path)
    assert table.column("id").to_pylist() == [23, 24, 25]


def test_unknown_endpoint_fails_at_once_with_its_url(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"GET http://127\.0\.0\.1:\d+/nothing answered 404"):
        read_table(spec(endpoint="nothing"), tmp_path)
