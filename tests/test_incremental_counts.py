"""Incremental streams with rules: rows before the watermark are left out before any rule
judges them (each bad row is rejected once), and every row read is in one counter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.runner import run_pipeline
from connectors.spec import parse_spec
from tests.conftest import Database

SHIPMENTS = """\
id,shipped_on,qty,weight
S-1,2026-10-01,1,1.5
S-2,2026-10-02,2,2.5
S-3,2026-10-03,three,3.5
S-4,2026-10-04,4,-9
S-5,2026-10-05,5,5.5
"""


@pytest.fixture
def warehouse(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", database.url.render_as_string(False))
    return database


def _shipments(db: Database) -> str:
    return f"""
pipeline: shipping
target: warehouse
streams:
  - name: shipments
    source: {{kind: csv, path: shipments.csv}}
    transform:
      types: {{id: text, shipped_on: date, qty: bigint, weight: float}}
      ranges: {{weight: {{min: 0}}}}
    load: {{table: {db.table("shipments")}, mode: upsert, keys: [id]}}
    incremental: {{cursor: shipped_on}}
"""


def _run(folder: Path, text: str) -> dict[str, Any]:
    summary = run_pipeline(parse_spec(text), base_dir=folder, project_dir=folder)
    stream: dict[str, Any] = summary.to_dict()["streams"][0]
    assert stream["status"] == "ok", stream["error"]
    return stream


def _counts(stream: dict[str, Any]) -> tuple[int, int, int, int]:
    """(read, filtered, rejected, loaded), checking that they add up."""
    counts = tuple(stream[f"rows_{n}"] for n in ("read", "filtered", "rejected", "loaded"))
    read, filtered, rejected, loaded = counts
    assert read == filtered + rejected + loaded + stream["deduplicated"]
    return counts


def _rejected_ids(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        raws = conn.execute(sa.text(f"SELECT raw FROM {db.table('shipments__rejects')}"))
        return sorted(raw.split('"id": "')[1].split('"')[0] for (raw,) in raws)


def _recorded(db: Database) -> list[tuple[int, int, int, int]]:
    """(read, filtered, rejected, loaded) of each committed run, oldest first."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT rows_read, rows_filtered, rows_rejected, rows_loaded "
                f"FROM {db.table('_dagsmith_runs')} ORDER BY started_at"
            )
        )
        return [tuple(row) for row in rows]


def test_old_bad_rows_are_rejected_once_and_the_counts_add_up(
    tmp_path: Path, warehouse: Database
) -> None:
    source = tmp_path / "shipments.csv"
    source.write_text(SHIPMENTS)
    text = _shipments(warehouse)
    assert _counts(_run(tmp_path, text)) == (5, 0, 2, 3)
    with source.open("a") as out:
        out.write("S-6,2026-10-06,6,6.5\n")
    # S-1..S-5 are at or before the watermark (2026-10-05): left out before any rule.
    assert _counts(_run(tmp_path, text)) == (6, 5, 0, 1)
    # A newest row that is rejected still moves the watermark: it is judged once.
    with source.open("a") as out:
        out.write("S-7,2026-10-07,7,-1\n")
    assert _counts(_run(tmp_path, text)) == (7, 6, 1, 0)
    assert _counts(_run(tmp_path, text)) == (7, 7, 0, 0)
    assert _rejected_ids(warehouse) == ["S-3", "S-4", "S-7"]
    assert _recorded(warehouse) == [(5, 0, 2, 3), (6, 5, 0, 1), (7, 6, 1, 0), (7, 7, 0, 0)]
    assert [row[0] for row in warehouse.rows(warehouse.table("shipments"))] == [
        "S-1",
        "S-2",
        "S-5",
        "S-6",
    ]


def test_a_row_whose_cursor_cannot_be_read_is_rejected_on_each_run(
    tmp_path: Path, warehouse: Database
) -> None:
    (tmp_path / "shipments.csv").write_text(SHIPMENTS + "S-9,soon,9,9.5\n")
    text = _shipments(warehouse)
    first = _run(tmp_path, text)
    assert _counts(first) == (6, 0, 3, 3)
    # Its place against the watermark is unknown: neither old (left out) nor new (loaded).
    second = _run(tmp_path, text)
    assert _counts(second) == (6, 5, 1, 0)
    assert second["rejected_by_rule"] == {"type": 1}
    assert _rejected_ids(warehouse) == ["S-3", "S-4", "S-9", "S-9"]


READINGS = """\
sensor,reading_at,celsius
a,2026-11-01T00:00:00Z,20.5
b,2026-11-01T01:00:00Z,21.0
c,2026-11-01T02:00:00Z,-300
d,2026-11-01T03:00:00Z,22.5
e,2026-11-01T04:00:00Z,23.0
off,2026-11-01T05:00:00Z,19.0
f,2026-11-01T06:00:00Z,24.0
"""


def test_rows_before_the_watermark_count_as_filtered(tmp_path: Path, warehouse: Database) -> None:
    (tmp_path / "readings.csv").write_text(READINGS)
    text = f"""
pipeline: sensors
target: warehouse
streams:
  - name: readings
    source: {{kind: csv, path: readings.csv}}
    transform:
      types: {{sensor: text, reading_at: timestamptz, celsius: float}}
      ranges: {{celsius: {{min: -90}}}}
      filter: {{column: sensor, op: "!=", value: "off"}}
    load: {{table: {warehouse.table("readings")}, mode: append}}
    incremental: {{cursor: reading_at}}
"""
    assert _counts(_run(tmp_path, text)) == (7, 1, 1, 5)
    assert _counts(_run(tmp_path, text)) == (7, 7, 0, 0)
    with warehouse.engine.connect() as conn:
        filtered = conn.execute(
            sa.text(
                f"SELECT rows_filtered FROM {warehouse.table('_dagsmith_runs')} ORDER BY started_at"
            )
        )
        assert [n for (n,) in filtered] == [1, 7]


@pytest.mark.parametrize("kind", ["postgres", "mariadb"])
def test_a_sql_source_reads_only_rows_past_the_watermark(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    db: Database = request.getfixturevalue(kind)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", db.url.render_as_string(False))
    source = db.table("shipments_src")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE {source} (id VARCHAR(8) PRIMARY KEY, shipped_on DATE, qty INTEGER)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {source} VALUES ('S-1', '2026-10-01', 1), ('S-2', '2026-10-02', -2)"
        )
    text = f"""
pipeline: shipping_sql
target: warehouse
streams:
  - name: shipments
    source: {{kind: sql, connection: warehouse, table: {source}}}
    transform: {{ranges: {{qty: {{min: 0}}}}}}
    load: {{table: {db.table("shipments")}, mode: upsert, keys: [id]}}
    incremental: {{cursor: shipped_on}}
"""
    assert _counts(_run(tmp_path, text)) == (2, 0, 1, 1)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {source} VALUES ('S-3', '2026-10-03', 3)")
    # The bound is in the SELECT: the old rows are never read, so they are in no counter.
    assert _counts(_run(tmp_path, text)) == (1, 0, 0, 1)
