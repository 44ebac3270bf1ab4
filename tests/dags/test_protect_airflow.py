"""`transform.protect` through a generated DAG's stream task (`dag.test()`):
the same engine, the same hashes and masks as `dagsmith run`, rejects protected too."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, run, unique
from tests.test_protect import CLEAR, KEY, PEOPLE, key_setting

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def test_a_dag_loads_and_rejects_only_protected_values(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting(KEY))
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    (tmp_path / "pipelines" / "data" / "people.csv").write_text(PEOPLE)
    spec = f"""
pipeline: {unique("protect")}
target: warehouse
retries: {{count: 0}}
streams:
  - name: people
    source: {{kind: csv, path: data/people.csv, ragged: reject}}
    transform:
      types: {{id: integer, age: integer}}
      protect: {{email: hash, phone: mask, ssn: redact, notes: drop}}
    load: {{table: {postgres.schema}.people}}
"""
    state, tis = run(deploy(tmp_path, spec))
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    with postgres.engine.connect() as conn:
        loaded = conn.exec_driver_sql(
            f"SELECT * FROM {postgres.table('people')} ORDER BY id"
        ).mappings()
        people = [dict(row) for row in loaded]
        rejects = conn.exec_driver_sql(
            f"SELECT row_number, raw FROM {postgres.table('people__rejects')} ORDER BY 1"
        ).all()
    alice = hmac.new(KEY.encode(), b"Alice@Example.com", hashlib.sha256).hexdigest()
    assert [(p["id"], p["email"], p["phone"], p["ssn"]) for p in people] == [
        (1, alice, "***4567", None),
        (3, people[1]["email"], "***1111", None),
        (4, None, "***", None),
    ]
    assert "notes" not in people[0]
    assert [n for n, _ in rejects] == [2, 5]
    assert json.loads(rejects[0][1])["phone"] == "***6543"
    stored = json.dumps([people, [raw for _, raw in rejects]], default=str)
    assert not [clear for clear in CLEAR if clear in stored]
