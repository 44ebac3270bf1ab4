"""Connection ids resolved as Airflow does: Airflow's store, the environment, `.env`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.connections import (
    get_connection,
    parse_connection,
    resolve_target,
    storage_options,
    to_sqlalchemy_url,
)
from connectors.errors import ConnectionNotFound, SpecError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("postgres://u:p%40ss@db:5432/shop", "postgresql+psycopg2://u:***@db:5432/shop"),
        (
            "postgresql://u@db/shop?sslmode=require",
            "postgresql+psycopg2://u@db/shop?sslmode=require",
        ),
        ("mysql://root@127.0.0.1:3306/test", "mysql+pymysql://root@127.0.0.1:3306/test"),
        ("mariadb://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
        ("sqlite:////var/data/w.db", "sqlite:////var/data/w.db"),
        ("postgresql+psycopg2://u:s@h/d", "postgresql+psycopg2://u:***@h/d"),
        (
            json.dumps(
                {
                    "conn_type": "postgres",
                    "host": "h",
                    "login": "u",
                    "password": "s",
                    "schema": "d",
                    "port": 5433,
                }
            ),
            "postgresql+psycopg2://u:***@h:5433/d",
        ),
    ],
)
def test_airflow_uris_and_json_become_sqlalchemy_urls(value: str, expected: str) -> None:
    assert to_sqlalchemy_url(value, "x").render_as_string(hide_password=True) == expected


def test_a_malformed_value_is_named_by_its_variable_never_shown() -> None:
    with pytest.raises(SpecError) as caught:
        to_sqlalchemy_url("postgresql://u:hunter2@h:notaport/db", "warehouse")
    assert "AIRFLOW_CONN_WAREHOUSE" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_environment_wins_over_dotenv_and_missing_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("AIRFLOW_CONN_SHOP=mysql://from-dotenv/db\n")
    assert get_connection("shop", tmp_path).host == "from-dotenv"
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", "mysql://from-env/db")
    assert get_connection("shop", tmp_path).host == "from-env"
    with pytest.raises(ConnectionNotFound, match="AIRFLOW_CONN_NOPE"):
        get_connection("nope", tmp_path)


def test_inside_an_airflow_task_an_unknown_connection_falls_back_to_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "some_dag")
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", "mysql://from-env/db")
    assert get_connection("shop", tmp_path).host == "from-env"


def test_no_target_is_the_embedded_duckdb_file(tmp_path: Path) -> None:
    target = resolve_target(None, tmp_path)
    assert target.embedded and target.url.get_backend_name() == "duckdb"
    assert target.url.database == str(tmp_path / ".dagsmith" / "warehouse.duckdb")
    assert (tmp_path / ".dagsmith").is_dir()


def test_s3_storage_options_follow_airflows_aws_connection() -> None:
    parsed = parse_connection(
        "lake", "aws://AKIA:secret@/?endpoint_url=http%3A%2F%2F127.0.0.1%3A9000&region_name=eu"
    )
    assert storage_options(parsed) == {
        "key": "AKIA",
        "secret": "secret",
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000", "region_name": "eu"},
    }
    assert "secret" not in repr(parsed)
