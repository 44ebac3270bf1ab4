"""One spec, two ways: `dagsmith run` and its generated DAG's `dag.test()` leave the same rows.

The spec has a stream of every source kind, on the Palmer penguins (a public data set):
csv, tsv, json, jsonl, excel, xml and parquet files, a csv on S3 (a moto server) read
with a connection's credentials, a REST API with `incremental.param` and a PostgreSQL
table with an incremental cursor. Each way runs twice, the sources growing in between;
then the target's tables, rejects, run records (less ids and times) and watermarks must
be the same, the API must have seen the bound and PostgreSQL the WHERE.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from lxml import etree
from moto.server import ThreadedMotoServer
from palmerpenguins import load_penguins

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, http_server, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))
FIRST = 200
"""Rows the REST and SQL sources hold on the first run; the second run sees all 344."""
START = datetime(2025, 1, 1, tzinfo=UTC)
FILES = ("csv", "tsv", "json", "jsonl", "excel", "xml", "parquet")
IGNORED = {
    "_dagsmith_runs": {"run_id", "started_at", "finished_at"},
    "_dagsmith_state": {"updated_at"},
}


def penguins() -> list[dict[str, Any]]:
    """The penguins with an id, as plain records (None where the data set has none)."""
    frame = load_penguins().reset_index(names="id")
    frame["id"] += 1
    for column in ("flipper_length_mm", "body_mass_g"):
        frame[column] = frame[column].astype("Int64")
    frame = frame.astype(object).where(frame.notna(), None)
    return [dict(record) for record in frame.to_dict(orient="records")]


def write_files(folder: Path, records: list[dict[str, Any]]) -> None:
    """The penguins in each file format, as a stranger's export would hold them."""
    frame = pd.DataFrame(records).convert_dtypes()  # 3750, not 3750.0
    frame.to_csv(folder / "penguins.csv", index=False)
    frame.to_csv(folder / "penguins.tsv", index=False, sep="\t")
    (folder / "penguins.json").write_text(json.dumps(records))
    (folder / "penguins.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(records[0]))
    for record in records:
        sheet.append(list(record.values()))
    book.save(folder / "penguins.xlsx")
    root = etree.Element("penguins")
    for record in records:
        node = etree.SubElement(root, "penguin")
        for key, value in record.items():
            if value is not None:
                etree.SubElement(node, key).text = str(value)
    (folder / "penguins.xml").write_bytes(etree.tostring(root, xml_declaration=True))
    pq.write_table(pa.Table.from_pylist(records), folder / "penguins.parquet")


def file_stream(kind: str, schema: str) -> str:
    suffix = {"excel": "xlsx"}.get(kind, kind)
    extra = ", record_path: penguins/penguin" if kind == "xml" else ""
    return f"""
  - name: {kind}_penguins
    source: {{kind: {kind}, path: data/penguins.{suffix}{extra}}}
    transform:
      types: {{id: bigint, bill_length_mm: "decimal(6,1)", body_mass_g: bigint}}
      required: [bill_length_mm, sex]
    load: {{table: {schema}.{kind}_penguins, mode: {"append" if kind == "csv" else "replace"}}}
"""


def spec_yaml(dag_id: str, schema: str) -> str:
    return f"""
pipeline: {dag_id}
target: warehouse
retries: {{count: 0, delay: 1s, max_delay: 1s}}
streams:
{"".join(file_stream(kind, schema) for kind in FILES)}
  - name: s3_penguins
    source: {{kind: csv, path: "s3://lake/exports/penguins*.csv", connection: lake}}
    transform: {{types: {{id: bigint}}, required: [sex]}}
    load: {{table: {schema}.s3_penguins, mode: upsert, keys: [id]}}
  - name: api_penguins
    source: {{kind: rest, connection: api, endpoint: penguins}}
    transform: {{types: {{id: bigint}}, required: [sex]}}
    load: {{table: {schema}.api_penguins, mode: upsert, keys: [id]}}
    incremental: {{cursor: id, param: since_id}}
  - name: db_penguins
    source: {{kind: sql, connection: source_db, table: {schema}.src_penguins}}
    transform: {{types: {{updated_at: timestamptz}}}}
    load: {{table: {schema}.db_penguins, mode: upsert, keys: [id]}}
    incremental: {{cursor: updated_at}}
"""


class Sources:
    """The sources of the spec, reset to their first state and grown for the second run."""

    def __init__(self, project: Path, postgres: Database, s3: Any) -> None:
        self.records = penguins()
        self.data = project / "pipelines" / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.postgres = postgres
        self.s3 = s3
        self.served = self.records[:FIRST]

    def reset(self) -> None:
        write_files(self.data, self.records)
        self.served = self.records[:FIRST]
        self.s3.put_object(Bucket="lake", Key="exports/penguins-1.csv", Body=self._csv(0, FIRST))
        self.s3.delete_object(Bucket="lake", Key="exports/penguins-2.csv")
        table = self.postgres.table("src_penguins")
        with self.postgres.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(
                f"CREATE TABLE {table} (id int PRIMARY KEY, species text, island text, "
                "body_mass_g int, updated_at timestamptz)"
            )
            self._insert(conn, self.records[:FIRST])

    def grow(self) -> None:
        """New rows everywhere, and a changed row whose cursor moves."""
        self.served = self.records
        self.s3.put_object(Bucket="lake", Key="exports/penguins-2.csv", Body=self._csv(FIRST, None))
        with self.postgres.engine.begin() as conn:
            self._insert(conn, self.records[FIRST:])
            conn.exec_driver_sql(
                f"UPDATE {self.postgres.table('src_penguins')} SET island = 'Moved', "
                f"updated_at = '{START + timedelta(days=30):%Y-%m-%d %H:%M:%S+00}' WHERE id = 5"
            )

    def _csv(self, start: int, end: int | None) -> bytes:
        frame = pd.DataFrame(self.records[start:end]).convert_dtypes()
        return frame.to_csv(index=False).encode()

    def _insert(self, conn: sa.Connection, records: list[dict[str, Any]]) -> None:
        rows = [
            {
                "id": r["id"],
                "species": r["species"],
                "island": r["island"],
                "mass": None if r["body_mass_g"] is None else int(r["body_mass_g"]),
                "at": START + timedelta(minutes=int(r["id"])),
            }
            for r in records
        ]
        conn.execute(
            sa.text(
                f"INSERT INTO {self.postgres.table('src_penguins')} "
                "VALUES (:id, :species, :island, :mass, :at)"
            ),
            rows,
        )

    def api(self, request: BaseHTTPRequestHandler, _n: int) -> tuple[int, Any]:
        """The penguins past `since_id`, as an API that filters where it reads would."""
        query = parse_qs(urlsplit(request.path).query)
        since = int(query.get("since_id", ["0"])[0])
        return 200, [r for r in self.served if int(r["id"]) > since]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the target (not the SQL source), less the columns a run makes unique.

    `_dagsmith_interval` is left out too: Airflow gives a data interval, `dagsmith run` has
    none (the table of differences in docs/airflow.md says so).
    """
    inspector = sa.inspect(db.engine)
    found: dict[str, list[tuple[Any, ...]]] = {}
    for name in sorted(inspector.get_table_names(schema=db.schema)):
        if name.startswith("src_"):
            continue
        ignored = IGNORED.get(name, {"run_id"} if name.endswith("__rejects") else set())
        ignored = ignored | {"_dagsmith_interval"}
        columns = [c["name"] for c in inspector.get_columns(name, schema=db.schema)]
        kept = ", ".join(f'"{c}"' for c in columns if c not in ignored)
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"SELECT {kept} FROM {db.table(name)} ORDER BY {kept}")
            found[name] = [tuple(row) for row in rows]
    return found


def clear_target(db: Database) -> None:
    """Drop what a run wrote, so the other way starts from the same empty target."""
    with db.engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names(schema=db.schema):
            if not name.startswith("src_"):
                conn.exec_driver_sql(f"DROP TABLE {db.table(name)}")


def server_log_since(db: Database) -> Callable[[], str]:
    """What PostgreSQL logs from now on (its stderr, read through SQL as a superuser)."""
    path = "'/proc/' || pg_backend_pid() || '/fd/2'"
    with db.engine.connect() as conn:
        start = conn.exec_driver_sql(f"SELECT (pg_stat_file({path})).size").scalar_one()

    def read() -> str:
        with db.engine.connect() as conn:
            sql = f"SELECT pg_read_file({path}, {start}, (pg_stat_file({path})).size - {start})"
            return str(conn.exec_driver_sql(sql).scalar_one())

    return read


def dagsmith_run(project: Path) -> dict[str, Any]:
    done = subprocess.run(
        [DAGSMITH, "run", "pipelines/spec.yaml", "--json"],
        cwd=project,
        env={k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CTX_")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def test_dagsmith_run_and_airflow_leave_the_same_tables_rejects_runs_and_watermarks(
    tmp_path: Path, postgres: Database, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="AKIAPARITY",
        aws_secret_access_key="parity-secret",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket="lake")
    lake = {"endpoint_url": s3_endpoint, "region_name": "us-east-1", "verify": False}
    aws = {"conn_type": "aws", "login": "AKIAPARITY", "password": "parity-secret", "extra": lake}
    monkeypatch.setenv("AIRFLOW_CONN_LAKE", json.dumps(aws))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    url = postgres.url
    # Text extras reach libpq (the statement log is how we see the WHERE); others never do.
    source_db = {
        "conn_type": "postgres",
        "host": url.host,
        "port": url.port,
        "login": url.username,
        "schema": url.database,
        "extra": {"options": "-clog_statement=all", "iam": False, "cursor": "dictcursor"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SOURCE_DB", json.dumps(source_db))
    sources = Sources(tmp_path, postgres, s3)
    spec = spec_yaml(unique("parity"), str(postgres.schema))
    dag = deploy(tmp_path, spec)
    outcome: dict[str, Any] = {}
    with http_server(sources.api) as (api_url, seen):
        monkeypatch.setenv("AIRFLOW_CONN_API", api_url)
        for way in ("dagsmith run", "airflow"):
            clear_target(postgres)
            sources.reset()
            seen.clear()
            run_way(way, tmp_path, dag, 1)
            sources.grow()
            server_log = server_log_since(postgres)
            run_way(way, tmp_path, dag, 2)
            rows_read = read_counts(postgres)
            # The database saw the WHERE: the second read holds the new and moved rows only,
            # and the logged statement carries the bound.
            assert rows_read["db_penguins"] == len(sources.records) - FIRST + 1
            statements = [
                line for line in server_log().splitlines() if "src_penguins" in line or "$1" in line
            ]
            assert any('"updated_at" > CAST($1' in line for line in statements), statements
            bound = (START + timedelta(minutes=FIRST)).isoformat()
            assert any(f"$1 = '{bound}'" in line for line in statements), statements
            # The API saw the bound: nothing on the first run, the highest id on the second.
            queries = [parse_qs(urlsplit(request["path"]).query) for request in seen]
            assert [q.get("since_id") for q in queries] == [None, [str(FIRST)]]
            assert rows_read["api_penguins"] == len(sources.records) - FIRST
            outcome[way] = snapshot(postgres)
    ours, airflows = outcome["dagsmith run"], outcome["airflow"]
    assert ours.keys() == airflows.keys()
    for table in ours:
        assert ours[table] == airflows[table], table
    tables = set(ours)
    assert {f"{kind}_penguins" for kind in (*FILES, "s3", "api", "db")} <= tables
    assert {f"{kind}_penguins__rejects" for kind in FILES} <= tables
    state = dict(((stream, key), value) for _, stream, key, value in ours["_dagsmith_state"])
    assert state[("api_penguins", "cursor")] == str(len(sources.records))
    assert state[("db_penguins", "cursor")].startswith(f"{START + timedelta(days=30):%Y-%m-%d}")
    s3_rows = ours["s3_penguins"]
    assert len(s3_rows) == sum(1 for r in sources.records if r["sex"] is not None)


def run_way(way: str, project: Path, dag: Any, day: int) -> None:
    """One run, by `dagsmith run` or by Airflow (a run per logical date)."""
    if way == "dagsmith run":
        summary = dagsmith_run(project)
        assert summary["ok"], summary
        return
    state, tis = run(dag, datetime(2025, 3, day, tzinfo=UTC))
    assert state == "success", {k: ti.state for k, ti in tis.items()}


def read_counts(db: Database) -> dict[str, int]:
    """Rows each stream read in its latest committed run, from the run records."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT DISTINCT ON (stream) stream, rows_read FROM {db.table('_dagsmith_runs')} "
            "ORDER BY stream, finished_at DESC"
        )
        return {stream: int(count) for stream, count in rows}
