"""File sources on S3, through a real S3-compatible server (moto's) on loopback."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
from moto.server import ThreadedMotoServer

from connectors.errors import SourceError
from connectors.runner import run_pipeline
from connectors.spec import parse_spec
from tests.conftest import Database

SECRET = "s3-secret-canary-7f3a"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="AKIATEST",
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket="exports")
    s3.put_object(Bucket="exports", Key="orders/2026-11-01.csv", Body=b"id,amount\n1,9.50\n2,3\n")
    s3.put_object(Bucket="exports", Key="orders/2026-11-02.csv", Body=b"id,amount\n3,12.25\n")
    s3.put_object(Bucket="exports", Key="other/skip.csv", Body=b"id,amount\n99,0\n")
    yield endpoint
    server.stop()


def _spec(schema: str, path: str) -> str:
    return f"""
pipeline: s3_orders
target: warehouse
streams:
  - name: orders
    source: {{kind: csv, path: "{path}", connection: lake}}
    transform: {{types: {{id: bigint, amount: "decimal(10,2)"}}}}
    load: {{table: {schema}.orders, mode: upsert, keys: [id]}}
"""


@pytest.mark.parametrize("form", ["json", "uri"])
def test_glob_on_s3_with_credentials_from_a_connection_loads_into_postgres(
    s3_endpoint: str,
    postgres: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    form: str,
) -> None:
    extra = {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}
    if form == "json":
        value = json.dumps(
            {"conn_type": "aws", "login": "AKIATEST", "password": SECRET, "extra": extra}
        )
    else:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in extra.items())
        value = f"aws://AKIATEST:{SECRET}@/?{query}"
    monkeypatch.setenv("AIRFLOW_CONN_LAKE", value)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    spec = parse_spec(_spec(postgres.schema or "", "s3://exports/orders/*.csv"))
    summary = run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path)
    assert summary.ok, summary.to_dict()
    rows = postgres.rows(postgres.table("orders"))
    assert [(r[0], str(r[1])) for r in rows] == [(1, "9.50"), (2, "3.00"), (3, "12.25")]


def test_missing_object_names_the_url_and_never_the_secret(
    s3_endpoint: str, postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}
    conn = {"conn_type": "aws", "login": "AKIATEST", "password": SECRET, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_LAKE", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    spec = parse_spec(_spec(postgres.schema or "", "s3://exports/orders/missing.csv"))
    (result,) = run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path).streams
    assert isinstance(result.error, SourceError)
    assert "s3://exports/orders/missing.csv" in str(result.error)
    assert SECRET not in str(result.error)
