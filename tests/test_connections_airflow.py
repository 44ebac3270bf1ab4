"""dagsmith reads a connection as Airflow does: the same value, the same fields and extras.

Each value is read three ways and must agree: by `airflow.sdk.Connection` itself, by
dagsmith outside Airflow (`AIRFLOW_CONN_<ID>`), and by dagsmith inside an Airflow task (the
Connection object's fields and `extra_dejson`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from connectors.alerts import webhook_url
from connectors.connections import (
    Connection,
    get_connection,
    parse_connection,
    storage_options,
    to_sqlalchemy_url,
)
from connectors.sources.rest import base_url
from connectors.spec.models import WebhookAlert
from tests.conftest import PG_URL

NESTED = {"verify": False, "config_kwargs": {"retries": {"max_attempts": 3}}, "timeout": 30}

CASES: dict[str, str] = {
    "http_scheme_in_host": json.dumps(
        {"conn_type": "http", "host": "https://api.shop.com", "login": "u", "password": "p@ss"}
    ),
    "http_scheme_in_host_uri": "http://https%3A%2F%2Fapi.shop.com/v1",
    "http_two_schemes_uri": "http://https://api.shop.com",
    "https_port_path": "https://u:s%2Fecret@API.shop.com:8443/v1/base",
    "extra_uri": "http://h.example.com/?" + urlencode({"__extra__": json.dumps(NESTED)}),
    "json_form": json.dumps(
        {
            "conn_type": "http",
            "host": "api.example.com",
            "schema": "https",
            "port": "8080",
            "extra": json.dumps({"verify": False}),
        }
    ),
    "json_non_string_extras": json.dumps({"conn_type": "http", "host": "x.io", "extra": NESTED}),
    "aws_endpoint": "aws://AKIA:s3cr%2Bt@/?endpoint_url=http%3A%2F%2F127.0.0.1%3A9000"
    "&region_name=eu-west-1",
    "postgres_sslmode": "postgresql://app:pw@db.internal:5433/shop?sslmode=require",
    "mysql": "mysql://root@127.0.0.1:3306/test?charset=utf8mb4",
    "sqlite": "sqlite:////var/data/w.db",
}


def _fields(conn: Any) -> tuple[Any, ...]:
    """What a connection means, with Airflow's empty strings read as absent."""
    extra = conn.extra if isinstance(conn, Connection) else conn.extra_dejson
    parts = (conn.conn_type, conn.host, conn.port, conn.login, conn.password, conn.schema)
    return (*(part if part != "" else None for part in parts), extra)


def _airflow(conn_id: str, value: str) -> Any:
    from airflow.sdk import Connection as AirflowConnection

    if value.startswith("{"):
        return AirflowConnection.from_json(value, conn_id=conn_id)
    return AirflowConnection(conn_id=conn_id, uri=value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_dagsmith_reads_each_connection_as_airflow_does_in_and_out_of_a_task(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = CASES[case]
    expected = _fields(_airflow(case, value))
    assert _fields(parse_connection(case, value)) == expected
    monkeypatch.setenv(f"AIRFLOW_CONN_{case.upper()}", value)
    assert _fields(get_connection(case, tmp_path)) == expected
    # Inside a task, Airflow's store (here its environment backend) answers first.
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "some_dag")
    assert _fields(get_connection(case, tmp_path)) == expected


def test_an_http_connection_with_a_scheme_in_its_host_keeps_it_inside_a_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", CASES["http_scheme_in_host"])
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "some_dag")
    conn = get_connection("shop", tmp_path)
    assert base_url(conn) == "https://api.shop.com"
    assert conn.password == "p@ss"


def test_the_uri_airflow_writes_for_non_string_extras_reads_back_whole() -> None:
    from airflow.sdk import Connection as AirflowConnection

    original = AirflowConnection(
        conn_id="api", conn_type="http", host="https://api.shop.com", extra=json.dumps(NESTED)
    )
    uri = original.get_uri()
    assert "__extra__" in uri
    conn = parse_connection("api", uri)
    assert conn.host == "https://api.shop.com"
    assert conn.extra == NESTED


@pytest.mark.postgres
def test_non_string_extras_never_reach_libpq(tmp_path: Path) -> None:
    """A real connection: libpq refuses any option it does not know (`iam`, `__extra__`)."""
    base = sa.make_url(PG_URL)
    extra = {"sslmode": "disable", "connect_timeout": 5, "iam": False, "cursor": "dictcursor"}
    extra |= {"config": {"a": 1}}
    value = json.dumps(
        {
            "conn_type": "postgres",
            "host": base.host,
            "port": base.port,
            "login": base.username,
            "schema": base.database,
            "extra": extra,
        }
    )
    url = to_sqlalchemy_url(value, "warehouse")
    assert dict(url.query) == {"sslmode": "disable", "connect_timeout": "5"}
    uri = f"postgres://{base.username}@{base.host}:{base.port}/{base.database}?"
    uri_url = to_sqlalchemy_url(uri + urlencode({"__extra__": json.dumps(extra)}), "warehouse")
    assert dict(uri_url.query) == dict(url.query)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_an_aws_connection_becomes_s3fs_options() -> None:
    value = json.dumps(
        {
            "conn_type": "aws",
            "login": "AKIA",
            "password": "s3cret",
            "extra": {
                "endpoint_url": "http://127.0.0.1:9000",
                "verify": False,
                "aws_session_token": "tok",
                "config_kwargs": {"retries": {"max_attempts": 3}},
            },
        }
    )
    assert storage_options(parse_connection("lake", value)) == {
        "key": "AKIA",
        "secret": "s3cret",
        "token": "tok",
        "config_kwargs": {"retries": {"max_attempts": 3}},
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000", "verify": False},
    }


@pytest.mark.parametrize("in_airflow", [False, True])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:8080/hooks/ops", "http://127.0.0.1:8080/hooks/ops"),
        ("https://hooks.example.com/services/T1/B2", "https://hooks.example.com/services/T1/B2"),
        (CASES["http_scheme_in_host"], "https://api.shop.com"),
    ],
)
def test_a_webhook_connection_is_the_same_url_in_and_out_of_airflow(
    value: str, expected: str, in_airflow: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TEAM_HOOK", value)
    if in_airflow:
        monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "some_dag")
    assert webhook_url(WebhookAlert(webhook_conn="team_hook"), tmp_path) == expected
