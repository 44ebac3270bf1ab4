"""A table on a database URL in the description ("the orders table from postgresql://..."):
`build` and `chat` name it `<pipeline>_source`, as `init` does, save the URL to `.env`, and
the spec they write runs as written (real PostgreSQL and MariaDB, real processes)."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from agent import env_file
from agent.chat_commands import Commands
from agent.conversation import Conversation
from agent.planner import plan
from connectors.connections import env_var
from connectors.spec import load_spec
from tests.agent.test_build import build
from tests.conftest import Database
from tests.test_cli import dagsmith

URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(
    "text",
    [
        f"Copy the shop.orders table from {URL} into mart.orders every day",
        f"Every hour, load table shop.orders in {URL} into mart.orders",
        f"Copy {URL} table shop.orders to the table mart.orders daily",
        f"Copy {URL}'s shop.orders table into mart.orders daily",
    ],
)
def test_a_table_on_a_database_url_becomes_a_connection_named_after_the_pipeline(
    text: str,
) -> None:
    planned = plan(text)
    assert planned.spec is not None, planned.questions
    (stream,) = planned.spec.streams
    assert stream.source.model_dump(exclude_defaults=True) == {
        "kind": "sql",
        "connection": "orders_source",
        "table": "shop.orders",
    }
    assert planned.connections == {"orders_source": URL}
    assert planned.sources == [{"connection": "orders_source", "table": "shop.orders"}]
    assert URL not in (planned.spec.description or "")


def test_a_database_url_without_a_table_asks_which_table() -> None:
    planned = plan(f"Copy {URL} into mart.orders")
    assert planned.spec is None and not planned.connections
    assert "Which table of postgresql://127.0.0.1/test" in planned.questions[0]


@pytest.fixture(params=["postgres", "mariadb"])
def shop(request: pytest.FixtureRequest) -> tuple[Database, str]:
    """A source table with three rows, and the URL that reaches its database."""
    db: Database = request.getfixturevalue(request.param)
    table = db.table("orders")
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key, status varchar(10))")
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1, 'paid'), (2, 'open'), (3, 'paid')")
    return db, db.url.render_as_string(hide_password=False)


def test_build_saves_the_url_to_env_and_the_spec_runs_as_written(
    project: Path, shop: tuple[Database, str]
) -> None:
    db, url = shop
    table = db.table("orders").replace('"', "").replace("`", "")
    result = build(project, f"Copy the {table} table from {url} into mart.orders every day")
    assert result.returncode == 0, result.stderr
    spec_text = (project / "pipelines" / "orders.yaml").read_text()
    assert "connection: orders_source" in spec_text and url not in spec_text
    assert (project / ".env").read_text() == f"{env_var('orders_source')}='{url}'\n"
    assert (project / ".env").stat().st_mode & 0o077 == 0
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    ran = dagsmith("run", "pipelines/orders.yaml", cwd=project, env=clean)
    assert ran.returncode == 0, ran.stderr
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute("SELECT id, status FROM mart.orders ORDER BY id").fetchall()
    assert rows == [(1, "paid"), (2, "open"), (3, "paid")]


def test_build_will_not_shadow_a_connection_set_to_another_database(project: Path) -> None:
    (project / ".env").write_text(f"{env_var('orders_source')}='sqlite:///other.db'\n")
    result = build(project, f"Copy the shop.orders table from {URL} into mart.orders")
    assert result.returncode != 0
    assert "already sets connection 'orders_source'" in result.stderr
    assert not (project / "pipelines").exists()
    assert "other.db" in (project / ".env").read_text()


def test_chat_save_writes_the_connection_too(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = postgres.table("orders").replace('"', "")
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key)")
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1), (2)")
    url = postgres.url.render_as_string(hide_password=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(env_var("orders_source"), url)  # what the chat sets, undone after
    monkeypatch.setattr(env_file, "_GIVEN", {})
    chat = Conversation(tmp_path, tmp_path, "offline")
    chat.send(f"copy the {table} table from {url} into mart.orders", lambda _: None, print)
    output = io.StringIO()
    Commands(chat, Console(file=output, width=200), lambda _: None).run("/save")
    assert "connection orders_source saved" in output.getvalue(), output.getvalue()
    assert load_spec(tmp_path / "pipelines" / "orders.yaml").streams[0].source.kind == "sql"
    assert url in (tmp_path / ".env").read_text()


def test_a_relative_sqlite_url_is_saved_as_an_absolute_one(project: Path) -> None:
    with sqlite3.connect(project / "shop.db") as conn:
        conn.execute("CREATE TABLE orders (id integer primary key, status text)")
        conn.execute("INSERT INTO orders VALUES (1, 'paid'), (2, 'open')")
    result = build(project, "Copy the orders table from sqlite:///shop.db into mart.orders")
    assert result.returncode == 0, result.stderr
    saved = (project / ".env").read_text()
    assert saved == f"{env_var('orders_source')}='sqlite:///{project / 'shop.db'}'\n"
    ran = dagsmith("run", "pipelines/orders.yaml", cwd=project)
    assert ran.returncode == 0, ran.stderr
