"""`dagsmith run` end to end from database sources into the real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Database

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))


def _run(spec: Path, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run(
        [DAGSMITH, "run", str(spec), "--json"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stream: dict[str, object] = json.loads(result.stdout)["streams"][0]
    return stream


def _seed(db: Database, table: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(50), "
                "total DECIMAL(10,2), updated_at TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                f"INSERT INTO {table} VALUES (1, 'Zoë', 10.50, '2026-11-01 08:00:00'), "
                "(2, 'O''Brien', 3.00, '2026-11-02 09:30:00'), "
                "(3, NULL, NULL, '2026-11-03 10:00:00')"
            )
        )


@pytest.mark.parametrize("source", ["mariadb", "postgres", "sqlite"])
def test_table_into_postgres_incrementally_reads_only_new_rows(
    source: str, postgres: Database, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db: Database = request.getfixturevalue(source)
    _seed(db, db.table("orders"))
    spec = tmp_path / "p.yaml"
    spec.write_text(
        f"""pipeline: maria_orders
target: warehouse
streams:
  - name: orders
    source: {{kind: sql, connection: shop, table: {db.table("orders")}}}
    load: {{table: {postgres.schema}.orders_copy, mode: upsert, keys: [id]}}
    incremental: {{cursor: updated_at}}
"""
    )
    env = {
        "AIRFLOW_CONN_SHOP": db.url.render_as_string(False),
        "AIRFLOW_CONN_WAREHOUSE": postgres.url.render_as_string(False),
    }
    assert _run(spec, env)["rows_loaded"] == 3
    with db.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE {db.table('orders')} SET total = 4, updated_at = '2026-11-04 00:00:00' "
                "WHERE id = 2"
            )
        )
    again = _run(spec, env)
    assert (again["rows_read"], again["updated"], again["inserted"]) == (1, 1, 0)
    rows = postgres.rows(postgres.table("orders_copy"))
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        (1, "Zoë", "10.50"),
        (2, "O'Brien", "4.00"),
        (3, None, "None"),
    ]


def test_postgres_query_into_postgres(postgres: Database, tmp_path: Path) -> None:
    _seed(postgres, postgres.table("src"))
    spec = tmp_path / "p.yaml"
    spec.write_text(
        f"""pipeline: pg_query
target: warehouse
streams:
  - name: big_orders
    source:
      kind: sql
      connection: shop
      query: SELECT id, upper(name) AS name, total FROM {postgres.table("src")} WHERE total > 1
    load: {{table: {postgres.schema}.big_orders, mode: replace}}
"""
    )
    url = postgres.url.render_as_string(False)
    stream = _run(spec, {"AIRFLOW_CONN_SHOP": url, "AIRFLOW_CONN_WAREHOUSE": url})
    assert stream["rows_loaded"] == 2
    rows = postgres.rows(postgres.table("big_orders"))
    assert [(r[0], r[1], str(r[2])) for r in rows] == [(1, "ZOË", "10.50"), (2, "O'BRIEN", "3.00")]
