"""A websocket stream through `run_pipeline` into the embedded DuckDB: records loaded,
a message that is not JSON in the rejects table, a quiet feed ending with nothing loaded."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import duckdb

from connectors.runner import run_pipeline
from connectors.spec import Pipeline
from tests.sources_ws.conftest import TOKEN, FeedServer, Script


def _run(folder: Path, transform: dict[str, Any], **source: Any) -> dict[str, Any]:
    spec = Pipeline.model_validate(
        {
            "pipeline": "trades_feed",
            "streams": [
                {
                    "name": "trades",
                    "source": {
                        "kind": "websocket",
                        "connection": "feed",
                        "endpoint": "trades",
                        "subscribe": {"op": "subscribe", "channel": "trades"},
                        "records": "$.data[*]",
                        "reconnect": {"backoff": 0.05},
                        **source,
                    },
                    "transform": transform,
                    "load": {"table": "feed.trades"},
                }
            ],
        }
    )
    [result] = run_pipeline(spec, base_dir=folder, project_dir=folder).streams
    assert result.error is None, str(result.error)
    assert TOKEN not in json.dumps(result.to_dict(), default=str)
    return result.to_dict()


def _query(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(folder / ".dagsmith" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_feed_is_loaded_with_its_rejects(feed: FeedServer, tmp_path: Path) -> None:
    trade = {"data": [{"id": 1, "price": 9.5, "venue": {"name": "X"}}]}
    more = {"data": [{"id": 2, "price": 3.25, "venue": {"name": "Y"}}, {"id": 3, "price": 1}]}
    feed.scripts = [
        Script(({"type": "subscribed"}, trade, "oops", more), then="drop"),
        Script(({"data": [{"id": 4, "price": 2}]},)),
    ]
    result = _run(tmp_path, {"types": {"price": "decimal(10,2)"}}, max_messages=5)
    assert (result["rows_read"], result["rows_rejected"], result["rows_loaded"]) == (5, 1, 4)
    rows = _query(
        tmp_path, "SELECT id, CAST(price AS VARCHAR), venue_name FROM feed.trades ORDER BY id"
    )
    assert rows == [(1, "9.50", "X"), (2, "3.25", "Y"), (3, "1.00", None), (4, "2.00", None)]
    [(row, rule, raw)] = _query(tmp_path, "SELECT row_number, rule, raw FROM feed.trades__rejects")
    assert (row, rule, json.loads(raw)) == (2, "message", {"message": "oops"})
    assert len(feed.sessions) == 2


def test_a_quiet_feed_ends_at_max_seconds_and_loads_nothing(
    feed: FeedServer, tmp_path: Path
) -> None:
    feed.scripts = [Script(({"data": [{"id": 1, "price": 2.5}]},), then="close")]
    assert _run(tmp_path, {})["rows_loaded"] == 1
    feed.scripts = [Script()]
    started = time.monotonic()
    result = _run(tmp_path, {}, max_seconds=0.5)
    assert 0.5 <= time.monotonic() - started < 5
    assert (result["rows_read"], result["rows_loaded"]) == (0, 0)
    assert _query(tmp_path, "SELECT id, price FROM feed.trades") == [(1, 2.5)]
