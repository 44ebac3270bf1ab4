"""One generated DAG file, unchanged, in two environments: the deployment picks it (Airflow's
Variable `dagsmith_env`, or DAGSMITH_ENV), and the production warehouse's credentials exist
only in Airflow's local-filesystem secrets backend, never in the spec, the DAG or `.env`.

The production run is a process of its own: Airflow reads its secrets backend settings once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import csv_project, deploy, http_server, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

RUN_DAG = """
import json, sys
from datetime import datetime, timezone
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False, load_op_links=False)
(dag,) = bag.dags.values()
when = datetime.fromisoformat(sys.argv[2]).replace(tzinfo=timezone.utc)
run = dag.test(logical_date=when, run_after=when)
print(json.dumps({"state": str(run.state)}))
"""


def _run(dag_file: Path, day: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(dag_file), day],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return str(json.loads(done.stdout.strip().splitlines()[-1])["state"])


def test_one_dag_file_runs_in_each_environment_with_secrets_from_the_backend(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_project(tmp_path, "id,amount\n1,9.5\n2,3\n", monkeypatch)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "connections.json").write_text(
        json.dumps({"wh_prod": postgres.url.render_as_string(hide_password=False)})
    )
    (secrets / "variables.json").write_text(json.dumps({"dagsmith_env": "prod"}))
    (tmp_path / "dagsmith.toml").write_text(
        "[environments.dev.connections]\nwarehouse = 'wh_dev'\n\n"
        "[environments.prod]\nalerts = {on_success = [{webhook_env = 'PROD_HOOK'}]}\n"
        "[environments.prod.connections]\nwarehouse = 'wh_prod'\n"
    )
    dag = deploy(
        tmp_path,
        f"""
pipeline: {unique("envs")}
target: warehouse
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{id: integer}}}}
    load: {{table: {postgres.schema}.orders, mode: upsert, keys: [id]}}
""",
    )
    dag_file = Path(dag.fileloc)
    written = hashlib.sha256(dag_file.read_bytes()).hexdigest()
    backend = {
        "AIRFLOW__SECRETS__BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(
            {
                "connections_file_path": str(secrets / "connections.json"),
                "variables_file_path": str(secrets / "variables.json"),
            }
        ),
    }
    for name in [n for n in os.environ if n.startswith(("AIRFLOW_CONN_", "DAGSMITH_ENV"))]:
        monkeypatch.delenv(name)
    dev_file = tmp_path / "dev.duckdb"

    with http_server(lambda request, n: (200, {})) as (url, hooked):
        # prod: chosen by the Variable; its warehouse only in the secrets backend.
        assert _run(dag_file, "2025-03-01", {**backend, "PROD_HOOK": url}) == "success"
        assert postgres.rows(postgres.table("orders")) == [(1, "9.5"), (2, "3")]
        assert [seen["body"]["event"] for seen in hooked] == ["success"]
        # dev: chosen by DAGSMITH_ENV, in this process; its warehouse is a DuckDB file.
        monkeypatch.setenv("DAGSMITH_ENV", "dev")
        monkeypatch.setenv("AIRFLOW_CONN_WH_DEV", f"duckdb:///{dev_file}")
        monkeypatch.setenv("PROD_HOOK", url)
        state, tis = run(dag)
        assert state == "success", {k: ti.state for k, ti in tis.items()}
        assert len(hooked) == 1  # dev has no alert route

    import duckdb

    with duckdb.connect(str(dev_file), read_only=True) as conn:
        loaded = conn.execute(f"SELECT id FROM {postgres.schema}.orders ORDER BY id").fetchall()
    assert loaded == [(1,), (2,)]
    assert hashlib.sha256(dag_file.read_bytes()).hexdigest() == written
    assert postgres.url.password is None or postgres.url.password not in dag_file.read_text()
