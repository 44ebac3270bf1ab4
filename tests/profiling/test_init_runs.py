"""`dagsmith init` on a bare URL, then `dagsmith run`, and nothing else in between.

Each test is a new user in an empty folder: two processes, the second one the command the
first one printed. The URL's connection must reach the run through the project's `.env`,
which must be private, out of git, and the only place the URL's password is written.
"""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import Cli, Database
from tests.sources_rest.conftest import running_json_server

CLEAN_ENV = {k: "" for k in os.environ if k.startswith("AIRFLOW_CONN_")}


def init_then_run(
    dagsmith: Cli, folder: Path, *args: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Run `dagsmith init ARGS`, then the command it printed; the spec, summary, init output."""
    made = dagsmith("init", *args, cwd=folder, env=CLEAN_ENV)
    assert made.returncode == 0, made.stderr
    printed = made.stdout.splitlines()[-1]
    assert printed.startswith("run it with: dagsmith run ")
    command = shlex.split(printed.removeprefix("run it with: dagsmith "))
    ran = dagsmith(*command, "--json", cwd=folder, env=CLEAN_ENV)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    spec = yaml.safe_load((folder / command[1]).read_text())
    return spec, json.loads(ran.stdout), made.stdout


def loaded(summary: dict[str, Any]) -> int:
    return int(summary["streams"][0]["rows_loaded"])


def _orders(engine: sa.Engine, table: str, rows: int = 57) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, amount NUMERIC(8,2))"))
        conn.execute(
            sa.text(f"INSERT INTO {table} VALUES (:id, :amount)"),
            [{"id": i, "amount": i * 1.5} for i in range(1, rows + 1)],
        )


def test_mariadb_url_becomes_a_private_connection(
    mariadb: Database, tmp_path: Path, dagsmith: Cli
) -> None:
    _orders(mariadb.engine, "orders")
    url = mariadb.url.set(drivername="mysql").render_as_string(hide_password=False)
    spec, summary, said = init_then_run(
        dagsmith, tmp_path, url, "--table", "orders", "--name", "maria"
    )
    assert spec["streams"][0]["source"]["connection"] == "maria_source"
    assert loaded(summary) == 57
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    assert dotenv.read_text() == f"AIRFLOW_CONN_MARIA_SOURCE='{url}'\n"
    assert "AIRFLOW_CONN_MARIA_SOURCE in" in said and str(dotenv) in said


def test_postgres_password_stays_in_dotenv_which_git_ignores(
    postgres: Database, tmp_path: Path, dagsmith: Cli
) -> None:
    table = postgres.table("orders")
    _orders(postgres.engine, table)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    url = postgres.url.set(drivername="postgresql", password="canary-Pw-31")
    rendered = url.render_as_string(hide_password=False)
    spec, summary, said = init_then_run(
        dagsmith, tmp_path, rendered, "--table", table, "--name", "pg"
    )
    assert loaded(summary) == 57 and spec["streams"][0]["source"]["connection"] == "pg_source"
    assert "canary-Pw-31" not in said + (tmp_path / "pipelines" / "pg.yaml").read_text()
    assert "added to .gitignore" in said
    ignored = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", ".env"], check=False)
    assert ignored.returncode == 0


def test_sqlite_relative_path_and_a_second_init_that_reuses_it(
    tmp_path: Path, dagsmith: Cli
) -> None:
    with sqlite3.connect(tmp_path / "shop.db") as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i / 2) for i in range(1, 58)])
    conn.close()
    spec, summary, _ = init_then_run(
        dagsmith, tmp_path, "sqlite:///shop.db", "--query", "SELECT * FROM orders", "--name", "lite"
    )
    assert loaded(summary) == 57 and spec["streams"][0]["source"]["connection"] == "lite_source"
    again = dagsmith("init", "sqlite:///shop.db", "--table", "orders", "--name", "lite",
                     "--force", cwd=tmp_path, env=CLEAN_ENV)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (tmp_path / ".env").read_text().count("AIRFLOW_CONN_LITE_SOURCE=") == 1


def test_a_connection_set_elsewhere_is_not_overwritten(tmp_path: Path, dagsmith: Cli) -> None:
    (tmp_path / ".env").write_text("AIRFLOW_CONN_LITE_SOURCE='sqlite:////elsewhere.db'\n")
    (tmp_path / "x.db").touch()
    made = dagsmith("init", "sqlite:///x.db", "--query", "SELECT 1 AS a", "--name", "lite",
                    cwd=tmp_path, env=CLEAN_ENV)  # fmt: skip
    assert made.returncode == 2 and "already sets connection 'lite_source'" in made.stderr
    assert not (tmp_path / "pipelines").exists()


def test_print_env_prints_the_line_and_writes_no_dotenv(tmp_path: Path, dagsmith: Cli) -> None:
    (tmp_path / "x.db").touch()
    made = dagsmith("init", "sqlite:///x.db", "--query", "SELECT 1 AS a", "--name", "lite",
                    "--print-env", cwd=tmp_path, env=CLEAN_ENV)  # fmt: skip
    assert made.returncode == 0, made.stderr
    line = f"export AIRFLOW_CONN_LITE_SOURCE=sqlite:///{tmp_path / 'x.db'}"
    assert line in made.stdout.splitlines() and not (tmp_path / ".env").exists()
    name, _, value = line.removeprefix("export ").partition("=")
    ran = dagsmith("run", "pipelines/lite.yaml", cwd=tmp_path, env={**CLEAN_ENV, name: value})
    assert ran.returncode == 0, ran.stderr


def test_json_server_pages_all_loaded(tmp_path: Path, dagsmith: Cli) -> None:
    """1,234 orders, 100 a page, Link headers only while `_page` is in the query."""
    rows = 1234
    orders = [{"id": i, "total": round(i * 1.1, 2)} for i in range(1, rows + 1)]
    (tmp_path / "srv").mkdir()
    with running_json_server(tmp_path / "srv", {"orders": orders}) as url:
        spec, summary, _ = init_then_run(
            dagsmith, tmp_path, f"{url}/orders?_page=1&_limit=100", "--name", "js"
        )
    source = spec["streams"][0]["source"]
    assert source["connection"] == "js_source" and "params" not in source
    assert source["pagination"]["type"] == "page_number"
    assert loaded(summary) == rows
    assert "None" not in spec["description"]


@pytest.mark.parametrize(
    "description",
    [
        "load table orders from sqlite:///shop.db into orders",
        "load http://127.0.0.1:9/v1/orders into orders",
    ],
)
def test_build_from_a_bare_url_it_cannot_reach_writes_nothing(
    tmp_path: Path, description: str, dagsmith: Cli
) -> None:
    """The URL becomes `orders_source` only once its source was profiled through it: a
    database or API that is not there leaves no spec and no `.env` (never `profile_url`)."""
    made = dagsmith("build", description, "--model", "offline", cwd=tmp_path, env=CLEAN_ENV)
    assert made.returncode == 2 and "orders_source" in made.stderr
    assert not (tmp_path / "pipelines").exists() and not (tmp_path / ".env").exists()


def test_json_server_limit_alone_pages_by_the_implied_page_param(
    tmp_path: Path, dagsmith: Cli
) -> None:
    """`?_limit=` alone: no Link header, one page and X-Total-Count; `_page` is implied."""
    orders = [{"id": i} for i in range(1, 251)]
    (tmp_path / "srv").mkdir()
    with running_json_server(tmp_path / "srv", {"orders": orders}) as url:
        spec, summary, _ = init_then_run(
            dagsmith, tmp_path, f"{url}/orders?_limit=100", "--name", "js"
        )
    pagination = spec["streams"][0]["source"]["pagination"]
    assert pagination == {
        "type": "page_number",
        "param": "_page",
        "size_param": "_limit",
        "size": 100,
    }
    assert loaded(summary) == 250
