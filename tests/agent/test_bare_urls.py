"""A bare URL in the description ("the orders table from postgresql://...", "load
https://api.shop.com/v1/orders"): `build` and `chat` name it `<pipeline>_source`, as `init`
does, save it to `.env` (an API's origin), and the spec they write runs as written (real
PostgreSQL, MariaDB and SQLite, json-server, real processes). A hosted model that hands the
URL to the tools gets a connection of the same kind."""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from langchain_core.messages import ToolMessage
from rich.console import Console

from agent import env_file
from agent.chat.commands import Commands
from agent.chat.conversation import Conversation
from agent.orchestrator.tools import Session
from agent.planner import plan
from connectors.connections import env_var
from connectors.spec import load_spec
from connectors.spec.io import to_plain
from tests.agent.test_build import build
from tests.agent.test_tools import call
from tests.conftest import Cli, Database
from tests.sources_rest.conftest import running_json_server

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
    project: Path, shop: tuple[Database, str], dagsmith: Cli
) -> None:
    db, url = shop
    table = db.table("orders").replace('"', "").replace("`", "")
    result = build(
        dagsmith, project, f"Copy the {table} table from {url} into mart.orders every day"
    )
    assert result.returncode == 0, result.stderr
    spec_text = (project / "pipelines" / "orders.yaml").read_text()
    assert "connection: orders_source" in spec_text and url not in spec_text
    assert (project / ".env").read_text() == f"{env_var('orders_source')}='{url}'\n"
    assert (project / ".env").stat().st_mode & 0o077 == 0
    ran = dagsmith("run", "pipelines/orders.yaml", cwd=project, env=_without_connections())
    assert ran.returncode == 0, ran.stderr
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute("SELECT id, status FROM mart.orders ORDER BY id").fetchall()
    assert rows == [(1, "paid"), (2, "open"), (3, "paid")]


def test_build_will_not_shadow_a_connection_set_to_another_database(
    project: Path, dagsmith: Cli
) -> None:
    (project / ".env").write_text(f"{env_var('orders_source')}='sqlite:///other.db'\n")
    result = build(dagsmith, project, f"Copy the shop.orders table from {URL} into mart.orders")
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


def test_a_relative_sqlite_url_is_saved_as_an_absolute_one(project: Path, dagsmith: Cli) -> None:
    with sqlite3.connect(project / "shop.db") as conn:
        conn.execute("CREATE TABLE orders (id integer primary key, status text)")
        conn.execute("INSERT INTO orders VALUES (1, 'paid'), (2, 'open')")
    result = build(
        dagsmith, project, "Copy the orders table from sqlite:///shop.db into mart.orders"
    )
    assert result.returncode == 0, result.stderr
    saved = (project / ".env").read_text()
    assert saved == f"{env_var('orders_source')}='sqlite:///{project / 'shop.db'}'\n"
    ran = dagsmith("run", "pipelines/orders.yaml", cwd=project)
    assert ran.returncode == 0, ran.stderr


def test_an_api_url_becomes_a_connection_holding_its_origin() -> None:
    planned = plan("Load https://api.shop.test/v1/orders?status=paid into table orders hourly")
    assert planned.spec is not None, planned.questions
    assert planned.spec.streams[0].source.model_dump(exclude_defaults=True) == {
        "kind": "rest",
        "connection": "orders_source",
        "endpoint": "v1/orders",
        "params": {"status": "paid"},
    }
    assert planned.connections == {"orders_source": "https://api.shop.test/v1/orders?status=paid"}


@pytest.fixture(scope="module")
def shop_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """json-server serving 1,234 orders; its base URL and the row count."""
    rows = [{"id": i, "status": ("paid", "open")[i % 2]} for i in range(1, 1235)]
    with running_json_server(tmp_path_factory.mktemp("api"), {"orders": rows}) as url:
        yield url, len(rows)


def test_build_from_a_paged_api_url_loads_every_page(
    project: Path, shop_api: tuple[str, int], dagsmith: Cli
) -> None:
    url, count = shop_api
    result = build(
        dagsmith, project, f"Load {url}/orders?_page=1&_limit=100 into table shop.orders"
    )
    assert result.returncode == 0, result.stderr
    source = load_spec(project / "pipelines" / "orders.yaml").streams[0].source
    assert source.model_dump(exclude_defaults=True) == {
        "kind": "rest",
        "connection": "orders_source",
        "endpoint": "orders",
        "pagination": {
            "type": "page_number",
            "param": "_page",
            "size_param": "_limit",
            "size": 100,
        },
    }
    assert (project / ".env").read_text() == f"{env_var('orders_source')}='{url}'\n"
    ran = dagsmith("run", "pipelines/orders.yaml", cwd=project, env=_without_connections())
    assert ran.returncode == 0, ran.stderr
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        loaded = conn.execute("SELECT count(DISTINCT id) FROM shop.orders").fetchone()
    assert loaded == (count,)


def test_a_hosted_model_that_hands_the_tools_a_database_url_gets_a_connection(
    project: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch, dagsmith: Cli
) -> None:
    """What any tool-calling model does with the user's URL: profile it as written. The
    answer names the connection to write; the spec that names it is checked and saved."""
    table = postgres.table("orders").replace('"', "")
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key, status text)")
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1, 'paid'), (2, 'open')")
    url = postgres.url.render_as_string(hide_password=False)
    monkeypatch.setattr(env_file, "_GIVEN", {})
    monkeypatch.delenv(env_var("orders_source"), raising=False)
    request = f"copy the {table} table from {url} into mart.orders"
    session = Session(request, project, project)
    answers: list[ToolMessage] = [
        call(session, name, source=url, table=table) for name in ("profile_source", "infer_schema")
    ]
    for answer in answers:
        assert answer.status == "success", answer.text
        assert "is now connection 'orders_source'" in answer.text
    assert env_file.given_ids() == ["orders_source"]  # the second call reused the first's
    planned = plan(f"copy the {table} table on connection orders_source into mart.orders")
    assert planned.spec is not None, planned.questions
    spec = to_plain(planned.spec)
    for name in ("validate_spec", "render_dag", "dry_run", "save_pipeline"):
        answer = call(session, name, spec=spec)
        assert answer.status == "success", f"{name}: {answer.text}"
    assert "connection orders_source saved" in answer.text
    assert (project / ".env").read_text() == f"{env_var('orders_source')}='{url}'\n"
    ran = dagsmith("run", "pipelines/orders.yaml", cwd=project, env=_without_connections())
    assert ran.returncode == 0, ran.stderr


def _without_connections() -> dict[str, str]:
    """This process's environment without any AIRFLOW_CONN_: a run finds them in `.env`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
