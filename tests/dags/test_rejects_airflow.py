"""Rejects through a generated DAG's stream task number rows as `dagsmith run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def test_ragged_type_and_key_rejects_keep_their_source_rows(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    (tmp_path / "pipelines" / "data" / "d.csv").write_text("ID,n\n1,2,3\nx,1\n,2\n4,5\n")
    spec = f"""
pipeline: {unique("rejects")}
target: warehouse
streams:
  - name: s
    source: {{kind: csv, path: data/d.csv, ragged: reject}}
    transform: {{rename: {{ID: id}}, types: {{id: bigint}}}}
    load: {{table: {postgres.schema}.t, mode: upsert, keys: [id]}}
"""
    state, tis = run(deploy(tmp_path, spec))
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    with postgres.engine.connect() as conn:
        found = conn.exec_driver_sql(
            f"SELECT row_number, rule, raw FROM {postgres.table('t__rejects')} ORDER BY 1"
        ).all()
        read = conn.exec_driver_sql(
            f"SELECT rows_read FROM {postgres.table('_dagsmith_runs')}"
        ).scalar()
    assert [(n, rule, json.loads(raw)) for n, rule, raw in found] == [
        (1, "ragged", {"ID": "1", "n": "2", "_extra": ["3"]}),
        (2, "type", {"ID": "x", "n": "1"}),
        (3, "key", {"ID": None, "n": "2"}),
    ]
    assert read == 4
    assert postgres.rows(postgres.table("t")) == [(4, "5")]
