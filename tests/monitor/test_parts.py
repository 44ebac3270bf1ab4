"""The monitor's pure parts: value shapes, reject groups, YAML edits, the change allow-list."""

from __future__ import annotations

from typing import cast

import pytest
import yaml
from langchain_core.tools import ToolException

from agent.monitor.evidence import Evidence
from agent.monitor.patterns import column_value, group, shape
from agent.monitor.proposal import refused
from agent.monitor.tools import MonitorSession, _bounded
from agent.monitor.yamledit import set_field
from agent.orchestrator.tools import MAX_CALLS_PER_TOOL, TO_MODEL, for_user

FLOW = """# orders, daily
pipeline: shop
streams:
  - name: orders
    source: {kind: csv, path: data/orders.csv}   # the export
    transform:
      rename: {OrderID: order_id}
    load: {table: orders, mode: upsert, keys: [order_id]}
"""
BLOCK = """pipeline: shop
streams:
- name: orders
  source:
    kind: csv
    path: data/orders.csv
    null_values:
    - ''
  load:
    table: orders
"""


def test_shapes_group_null_tokens_and_dates() -> None:
    assert shape("N/A") == shape("n/a") == "a/a"
    assert shape("12.5.2024") == shape("1.12.2024") == "9.9.9"
    assert shape("1,5") == "9,9"


def test_reason_gives_column_and_value() -> None:
    reason = "column 'amount': 'N/A' is not a valid decimal(10,2) number"
    assert column_value(reason) == ("amount", "N/A")
    assert column_value("column 'amount': -3.00 is below the minimum 0") == ("amount", "-3.00")
    assert column_value("column 'customer_id' is null but required") is None


def test_groups_by_rule_column_and_shape() -> None:
    reasons = [
        ("type", "column 'amount': 'N/A' is not a valid decimal(10,2) number", 1),
        ("type", "column 'amount': 'n/a' is not a valid decimal(10,2) number", 2),
        ("type", "column 'amount': '12.5.2024' is not a valid decimal(10,2) number", 1),
        ("required", "column 'id' is null but required", 1),
    ]
    first, *others = group(reasons)
    assert (first.rule, first.column, first.pattern, first.rows) == ("type", "amount", "a/a", 3)
    assert first.values == ["N/A", "n/a"] and first.null_like
    assert [(g.pattern, g.rows, g.null_like) for g in others] == [
        ("", 1, False),
        ("9.9.9", 1, False),
    ]


def test_flow_edit_changes_one_line_and_keeps_comments() -> None:
    edited = set_field(FLOW, ["streams", 0, "source", "null_values"], ["", "N/A"])
    changed = [
        (a, b) for a, b in zip(FLOW.splitlines(), edited.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        (
            "    source: {kind: csv, path: data/orders.csv}   # the export",
            "    source: {kind: csv, path: data/orders.csv, null_values: ['', N/A]}   # the export",
        )
    ]


def test_edits_add_a_missing_mapping_or_replace_a_value() -> None:
    added = set_field(FLOW, ["streams", 0, "contract", "new_columns"], "add")
    assert added.splitlines()[-1] == "    contract: {new_columns: add}"
    renamed = set_field(
        FLOW, ["streams", 0, "transform", "rename"], {"OrderID": "order_id", "Amt": "amount"}
    )
    assert "      rename: {OrderID: order_id, Amt: amount}" in renamed.splitlines()
    block = set_field(BLOCK, ["streams", 0, "source", "null_values"], ["", "N/A"])
    assert yaml.safe_load(block)["streams"][0]["source"]["null_values"] == ["", "N/A"]
    assert block.replace("    - N/A\n", "") == BLOCK


def test_a_change_may_not_touch_where_data_comes_from_or_goes() -> None:
    allowed = {"source.null_values": [], "contract.new_columns": "add", "transform.rename": {}}
    assert refused(allowed) == []
    wrong = {"source.path": "x", "source.connection": "c", "load.table": "t", "transform.steps": []}
    assert refused(wrong) == list(wrong)


def test_a_tool_called_too_often_tells_the_model_what_to_do_and_the_user_what_happened() -> None:
    def read_run() -> tuple[str, None]:
        return "ok", None

    bounded = _bounded(MonitorSession(evidence=cast("Evidence", None)), read_run)
    assert [bounded() for _ in range(MAX_CALLS_PER_TOOL)] == [("ok", None)] * MAX_CALLS_PER_TOOL
    with pytest.raises(ToolException) as raised:
        bounded()
    text = str(raised.value)
    assert f"{TO_MODEL}stop calling tools" in text
    assert for_user(text) == f"error: read_run was called too often ({MAX_CALLS_PER_TOOL} calls)"
