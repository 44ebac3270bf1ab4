"""Incremental loading end to end: watermark stored with the rows, crash-safe, pushed down."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from connectors.errors import SpecError
from connectors.runner import run_pipeline
from connectors.spec import parse_spec
from tests import udfs
from tests.conftest import Database


def _csv(path: Path, ids: range, day: int = 1) -> None:
    lines = ["id,updated_at,amount"]
    lines += [f"{i},2026-11-{day:02d}T{i % 24:02d}:00:00Z,{i}.5" for i in ids]
    path.write_text("\n".join(lines) + "\n")


def _spec(db: Database, mode: str = "append", extra: str = "", steps: str = "") -> str:
    keys = ", keys: [id]" if mode == "upsert" else ""
    return f"""
pipeline: incr
target: warehouse
streams:
  - name: events
    source: {{kind: csv, path: events.csv}}
    batch_rows: 1000
    transform:
      types: {{id: bigint, updated_at: timestamptz, amount: float}}{steps}
    load: {{table: {db.schema}.events, mode: {mode}{keys}}}
    incremental: {{cursor: updated_at{extra}}}
"""


@pytest.fixture
def warehouse(postgres: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    return postgres


def _run(tmp_path: Path, text: str, **kwargs: object) -> dict[str, object]:
    summary = run_pipeline(parse_spec(text), base_dir=tmp_path, project_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
    return summary.to_dict()["streams"][0]  # type: ignore[no-any-return]


def _state(db: Database) -> str:
    with db.engine.connect() as conn:
        return str(
            conn.execute(sa.text(f'SELECT value FROM "{db.schema}"._dagsmith_state')).scalar_one()
        )


def test_second_run_loads_only_rows_past_the_watermark(tmp_path: Path, warehouse: Database) -> None:
    _csv(tmp_path / "events.csv", range(1, 101))
    first = _run(tmp_path, _spec(warehouse))
    assert first["rows_loaded"] == 100
    assert _state(warehouse).startswith("2026-11-01T23:00:00")
    # The export now also holds the old rows: only the 50 new ones (a later day) may land.
    _csv(tmp_path / "events.csv", range(1, 101))
    with (tmp_path / "events.csv").open("a") as out:
        out.writelines(f"{i},2026-11-02T{i % 24:02d}:00:00Z,{i}.5\n" for i in range(101, 151))
    second = _run(tmp_path, _spec(warehouse))
    assert second["rows_loaded"] == 50
    third = _run(tmp_path, _spec(warehouse))
    assert third["rows_loaded"] == 0
    ids = [row[0] for row in warehouse.rows(warehouse.table("events"))]
    assert ids == list(range(1, 151))
    assert _state(warehouse).startswith("2026-11-02T23:00:00")


def test_a_run_that_dies_half_way_moves_nothing_and_a_rerun_loads_each_row_once(
    tmp_path: Path, warehouse: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _csv(tmp_path / "events.csv", range(1, 3001))
    steps = "\n      steps: [{udf: 'tests.udfs:crash_midway'}]"
    monkeypatch.setitem(udfs.CRASH, "after_id", 2500)
    failed = _run(tmp_path, _spec(warehouse, steps=steps))
    assert failed["status"] == "failed"
    assert "the worker died half-way" in str(failed["error"])
    with warehouse.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names(schema=warehouse.schema)
    if "events" in tables:
        assert warehouse.rows(warehouse.table("events")) == []
    if "_dagsmith_state" in tables:
        with warehouse.engine.connect() as conn:
            count = conn.execute(
                sa.text(f'SELECT count(*) FROM "{warehouse.schema}"._dagsmith_state')
            )
            assert count.scalar_one() == 0
    monkeypatch.setitem(udfs.CRASH, "after_id", None)
    rerun = _run(tmp_path, _spec(warehouse, steps=steps))
    assert rerun["status"] == "ok"
    ids = [row[0] for row in warehouse.rows(warehouse.table("events"))]
    assert ids == list(range(1, 3001))


def test_lag_rereads_a_window_and_upsert_absorbs_it(tmp_path: Path, warehouse: Database) -> None:
    _csv(tmp_path / "events.csv", range(1, 25))
    text = _spec(warehouse, mode="upsert", extra=", lag: 2h")
    assert _run(tmp_path, text)["rows_loaded"] == 24
    # A late correction of an hour-22 row arrives, within the 2-hour lag.
    (tmp_path / "events.csv").write_text("id,updated_at,amount\n22,2026-11-01T22:00:00Z,99\n")
    late = _run(tmp_path, text)
    assert late["rows_loaded"] == 1
    assert late["updated"] == 1
    rows = warehouse.rows(warehouse.table("events"))
    assert len(rows) == 24
    assert rows[21][2] == 99


def test_full_refresh_ignores_the_watermark(tmp_path: Path, warehouse: Database) -> None:
    _csv(tmp_path / "events.csv", range(1, 11))
    text = _spec(warehouse, mode="upsert")
    _run(tmp_path, text)
    assert _run(tmp_path, text)["rows_loaded"] == 0
    again = _run(tmp_path, text, full_refresh=True)
    assert again["rows_loaded"] == 10
    assert again["inserted"] == 0
    assert len(warehouse.rows(warehouse.table("events"))) == 10


@pytest.mark.parametrize(
    ("mode", "extra", "message"),
    [
        ("replace", "", "an incremental stream cannot replace the table"),
        ("append", ", lag: 1h", "a lag re-reads rows: use mode 'upsert'"),
    ],
)
def test_modes_that_would_lose_or_duplicate_rows_are_refused(
    postgres: Database, mode: str, extra: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        parse_spec(_spec(postgres, mode=mode, extra=extra))


class _Api(BaseHTTPRequestHandler):
    """Events filtered by `since`, as many APIs do; remembers what it was asked."""

    seen: ClassVar[list[dict[str, list[str]]]] = []
    events: ClassVar[list[dict[str, object]]] = [
        {"id": i, "updated_at": f"2026-11-0{1 + i // 10}T00:00:00+00:00"} for i in range(30)
    ]

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.seen.append(query)
        since = query.get("since", [""])[0]
        body = json.dumps([e for e in self.events if str(e["updated_at"]) > since]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Api.seen.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_rest_source_sends_the_watermark_as_a_query_parameter(
    tmp_path: Path, warehouse: Database, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS_API", api)
    text = f"""
pipeline: api_incr
target: warehouse
streams:
  - name: events
    source: {{kind: rest, connection: events_api, endpoint: events}}
    transform: {{types: {{id: bigint, updated_at: timestamptz}}}}
    load: {{table: {warehouse.schema}.events, mode: append}}
    incremental: {{cursor: updated_at, param: since}}
"""
    assert _run(tmp_path, text)["rows_loaded"] == 30
    _Api.events.append({"id": 30, "updated_at": "2026-11-05T00:00:00+00:00"})
    try:
        assert _run(tmp_path, text)["rows_loaded"] == 1
    finally:
        _Api.events.pop()
    assert "since" not in _Api.seen[0]
    assert _Api.seen[1]["since"] == ["2026-11-03T00:00:00+00:00"]
