"""Pre-flight: a load bound to fail on its target fails before the source is read, through
`dagsmith run` and through a generated DAG. The source is a loopback REST server that
counts the requests it receives: none may arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, http_server, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))


def items(_request: Any, _n: int) -> tuple[int, Any]:
    return 200, [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]


def spec(dag_id: str, table: str) -> str:
    return f"""
pipeline: {dag_id}
target: warehouse
retries: {{count: 2, delay: 1s, exponential: false, max_delay: 1s}}
streams:
  - name: items
    source: {{kind: rest, connection: api, endpoint: items, retry: {{attempts: 1}}}}
    transform: {{types: {{id: bigint, name: string}}}}
    load: {{table: {table}, mode: upsert, keys: [id]}}
"""


def retyped(db: Database) -> str:
    """A target whose `id` is text where the spec says bigint."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {db.table('items')} (id text PRIMARY KEY, name text)")
    return db.table("items")


def dagsmith_run(project: Path, spec_text: str, env: dict[str, str]) -> dict[str, Any]:
    path = project / "pipelines" / "spec.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec_text)
    result = subprocess.run(
        [DAGSMITH, "run", str(path), "--json"],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_dagsmith_run_reads_nothing_when_the_target_cannot_take_it(
    tmp_path: Path, postgres: Database
) -> None:
    unreachable = postgres.url.set(port=1).render_as_string(False)
    cases = {
        "does not match the spec": (retyped(postgres), postgres.url.render_as_string(False)),
        "retry later": (postgres.table("other"), unreachable),
    }
    for words, (table, target) in cases.items():
        with http_server(items) as (url, seen):
            env = {"AIRFLOW_CONN_API": url, "AIRFLOW_CONN_WAREHOUSE": target}
            summary = dagsmith_run(tmp_path, spec(unique("pre"), table), env)
        assert words in summary["streams"][0]["error"]
        assert seen == []  # not one request: the source was never opened


@pytest.mark.usefixtures("airflow_db")
def test_a_dag_fails_at_its_extract_without_a_request_or_a_retry(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    table = retyped(postgres)
    with http_server(items) as (url, seen):
        monkeypatch.setenv("AIRFLOW_CONN_API", url)
        state, tis = run(deploy(tmp_path, spec(unique("pre_dag"), table)))
    assert state == "failed"
    assert tis["stream_items"].try_number == 1  # a permanent error: no retry
    assert seen == []
    with postgres.engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0
