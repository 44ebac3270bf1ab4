"""NaN and ±Infinity: null by default, kept on request, never passing `required` or `ranges`.

The same four values come from a CSV, a JSON file, a Parquet file and a PostgreSQL table,
and go to the real PostgreSQL, whose float8 can hold them when they are kept.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from connectors.runner import run_pipeline
from connectors.spec.models import Pipeline
from tests.conftest import Database

VALUES = [float("nan"), float("inf"), float("-inf"), 5.0]


def _source(kind: str, folder: Path, db: Database) -> dict[str, Any]:
    if kind == "csv":
        (folder / "f.csv").write_text("id,x\n1,NaN\n2,Infinity\n3,-inf\n4,5\n")
        return {"kind": "csv", "path": "f.csv"}
    if kind == "json":
        text = ",".join(f'{{"id": {i}, "x": {json.dumps(v)}}}' for i, v in enumerate(VALUES, 1))
        (folder / "f.json").write_text(f"[{text}]")
        return {"kind": "json", "path": "f.json"}
    if kind == "parquet":
        pq.write_table(pa.table({"id": [1, 2, 3, 4], "x": VALUES}), folder / "f.parquet")
        return {"kind": "parquet", "path": "f.parquet"}
    table = db.table("src")
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id int, x float8)"))
        conn.execute(
            sa.text(f"INSERT INTO {table} VALUES (1,'NaN'),(2,'Infinity'),(3,'-Infinity'),(4,5)")
        )
    return {"kind": "sql", "connection": "warehouse", "table": table}


def _run(folder: Path, source: dict[str, Any], transform: dict[str, Any], table: str) -> Any:
    spec = Pipeline.model_validate(
        {
            "pipeline": "floats",
            "target": "warehouse",
            "streams": [
                {
                    "name": "s",
                    "source": source,
                    "transform": {"types": {"id": "integer", "x": "float"}, **transform},
                    "load": {"table": table},
                }
            ],
        }
    )
    [result] = run_pipeline(spec, base_dir=folder, project_dir=folder).streams
    assert result.error is None, result.error
    return result


@pytest.mark.parametrize("kind", ["csv", "json", "parquet", "sql"])
def test_non_finite_floats(
    kind: str, tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    source = _source(kind, tmp_path, postgres)
    nulls = _run(tmp_path, source, {}, postgres.table("nulls"))
    assert postgres.rows(postgres.table("nulls")) == [(1, None), (2, None), (3, None), (4, 5.0)]
    assert nulls.stats.rows_rejected == 0

    kept = _run(tmp_path, source, {"non_finite": "keep"}, postgres.table("kept"))
    stored = [x for _, x in postgres.rows(postgres.table("kept"))]
    assert math.isnan(stored[0]) and stored[1:] == [math.inf, -math.inf, 5.0]
    assert kept.stats.rows_rejected == 0

    required = {"required": ["x"]}
    ranges = {"ranges": {"x": {"min": 0, "max": 100}}}
    keep = {"non_finite": "keep"}
    for number, rules in enumerate([required, {**keep, **required}, {**keep, **ranges}]):
        table = postgres.table(f"checked_{number}")
        checked = _run(tmp_path, source, rules, table)
        assert postgres.rows(table) == [(4, 5.0)]
        assert checked.stats.by_rule == {"required" if "required" in rules else "range": 3}
