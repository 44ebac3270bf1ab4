"""`transform.filter` through `dagsmith run` and through a generated DAG (`dag.test()`).

Sources: the palmerpenguins CSV, a PostgreSQL table and a MariaDB table; the target is the
real PostgreSQL. The same spec goes both ways and must load the same rows and counts.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import palmerpenguins
import pytest
import sqlalchemy as sa

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))
ORDERS = """\
CREATE TABLE {t} (id INTEGER PRIMARY KEY, amount DECIMAL(10,2), status VARCHAR(20));
INSERT INTO {t} VALUES (1, 10.50, 'paid'), (2, 75.00, 'paid'), (3, NULL, 'shipped'),
 (4, 120.25, 'void'), (5, 51.00, 'shipped'), (6, 50.00, 'paid'), (7, 99.00, NULL)
"""


def _penguins_expected() -> list[tuple[str, str, str]]:
    with PENGUINS.open() as handle:
        return [
            (row["species"], row["island"], row["sex"])
            for row in csv.DictReader(handle)
            if row["body_mass_g"] != "NA"
            and 3500 <= float(row["body_mass_g"]) <= 4000
            and row["species"] in {"Adelie", "Chinstrap"}
        ]


def _spec(name: str, pg: Database) -> str:
    return f"""
pipeline: {name}
target: warehouse
streams:
  - name: penguins
    source: {{kind: csv, path: data/penguins.csv}}
    transform:
      select: [species, island, sex]
      filter:
        all:
          - {{column: body_mass_g, op: between, value: [3500, 4000]}}
          - {{column: species, op: in, value: [Adelie, Chinstrap]}}
    load: {{table: {pg.schema}.penguins, mode: replace}}
  - name: pg_orders
    source: {{kind: sql, connection: shop_pg, table: {pg.table("orders_src")}}}
    transform: {{filter: {{column: amount, op: ">", value: 50}}}}
    load: {{table: {pg.schema}.pg_orders, mode: upsert, keys: [id]}}
  - name: maria_orders
    source: {{kind: sql, connection: shop_maria, table: orders_src}}
    transform:
      filter:
        all:
          - {{column: amount, op: ">", value: "50"}}
          - {{column: status, op: in, value: [paid, shipped]}}
    load: {{table: {pg.schema}.maria_orders, mode: append}}
"""


@pytest.fixture
def sources(
    tmp_path: Path, postgres: Database, mariadb: Database, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A project with the penguins CSV, orders in both databases, and the connections."""
    for db, table in ((postgres, postgres.table("orders_src")), (mariadb, "orders_src")):
        with db.engine.begin() as conn:
            for statement in ORDERS.format(t=table).split(";\n"):
                conn.exec_driver_sql(statement)
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    shutil.copy(PENGUINS, tmp_path / "pipelines" / "data" / "penguins.csv")
    for name, db in (("WAREHOUSE", postgres), ("SHOP_PG", postgres), ("SHOP_MARIA", mariadb)):
        monkeypatch.setenv(f"AIRFLOW_CONN_{name}", db.url.render_as_string(False))
    return tmp_path


def _loaded(pg: Database) -> dict[str, Any]:
    with pg.engine.connect() as conn:
        runs = conn.execute(
            sa.text(
                f"SELECT stream, rows_read, rows_filtered FROM {pg.table('_dagsmith_runs')} "
                "ORDER BY stream"
            )
        ).all()
    return {
        "penguins": sorted(pg.rows(pg.table("penguins"))),
        "pg_orders": [r[0] for r in pg.rows(pg.table("pg_orders"))],
        "maria_orders": [r[0] for r in pg.rows(pg.table("maria_orders"))],
        "runs": {stream: (read, filtered) for stream, read, filtered in runs},
    }


def _expected() -> dict[str, Any]:
    penguins = _penguins_expected()
    return {
        "penguins": sorted(penguins),
        # amount > 50 is pushed into the query: the database returns only those rows.
        "pg_orders": [2, 4, 5, 7],
        "maria_orders": [2, 5],
        "runs": {
            "penguins": (344, 344 - len(penguins)),
            "pg_orders": (4, 0),
            "maria_orders": (4, 2),  # void and NULL status, after reading
        },
    }


class _Gateway(BaseHTTPRequestHandler):
    """Stands in for a Prometheus Pushgateway: keeps each pushed body by its path."""

    pushes: ClassVar[dict[str, str]] = {}

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.pushes[self.path] = body.decode(errors="replace")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def test_filter_through_dagsmith_run(sources: Path, postgres: Database, mariadb: Database) -> None:
    spec = sources / "pipelines" / "filtered.yaml"
    spec.write_text(_spec("filtered_run", postgres))
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    env = {**os.environ, "DAGSMITH_PUSHGATEWAY_URL": f"http://127.0.0.1:{gateway.server_port}"}
    try:
        result = subprocess.run(
            [DAGSMITH, "--verbose", "--log-format", "json", "run", str(spec), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=sources,
        )
    finally:
        gateway.shutdown()
    pushed = next(body for path, body in _Gateway.pushes.items() if path.endswith("/maria_orders"))
    assert "dagsmith_stream_rows_filtered 2.0" in pushed
    _check_run(result, postgres)
    table = subprocess.run(
        [DAGSMITH, "run", str(spec)], capture_output=True, text=True, timeout=180, cwd=sources
    )
    assert table.returncode == 0 and "filtered" in table.stdout


def _check_run(result: subprocess.CompletedProcess[str], postgres: Database) -> None:
    """The JSON summary, the pushed-down queries in the log, and the loaded tables."""
    assert result.returncode == 0, result.stderr
    logged = [json.loads(line)["message"] for line in result.stderr.splitlines()]
    pushed = [line for line in logged if "filter pushed into the query" in line]
    assert len(pushed) == 2  # amount > 50 in both databases; status (text) is not pushed
    assert all("amount >" in line.split("WHERE")[1] for line in pushed)
    assert not any("status" in line.split("WHERE")[1] for line in pushed)
    streams = {s["stream"]: s for s in json.loads(result.stdout)["streams"]}
    expected = _expected()
    assert {n: (s["rows_read"], s["rows_filtered"]) for n, s in streams.items()} == expected["runs"]
    assert _loaded(postgres) == expected


@pytest.mark.usefixtures("airflow_db")
def test_filter_through_a_generated_dag(
    sources: Path, postgres: Database, mariadb: Database
) -> None:
    dag = deploy(sources, _spec(unique("filtered_dag"), postgres))
    state, tis = run(dag)
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    assert _loaded(postgres) == _expected()
    results = {ti.task_id: ti.xcom_pull(task_ids=ti.task_id) for ti in tis.values()}
    assert results["stream_maria_orders"]["rows_filtered"] == 2
    assert results["stream_penguins"]["rows_filtered"] == 344 - len(_penguins_expected())
