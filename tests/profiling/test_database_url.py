"""`dagsmith profile URL --table T`: a database named by its SQLAlchemy URL on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import Cli, Database


def _profile(dagsmith: Cli, *args: str) -> dict[str, object]:
    done = dagsmith("profile", *args, "--json", cwd=Path.cwd())
    assert done.returncode == 0, done.stderr
    profile: dict[str, object] = json.loads(done.stdout)
    return profile


def test_a_sqlite_url_with_a_table(tmp_path: Path, dagsmith: Cli) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/shop.db")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)"))
    profile = _profile(dagsmith, f"sqlite:///{tmp_path}/shop.db", "--table", "t")
    assert profile["rows"] == {"value": 3, "estimated": False}
    assert [c["name"] for c in profile["columns"]] == ["id", "name"]  # type: ignore[attr-defined]


def test_a_postgres_url_with_a_query_never_echoes_the_password(
    postgres: Database, dagsmith: Cli
) -> None:
    url = postgres.url.set(password="canary-pw-31")  # trust auth: any password is accepted
    profile = _profile(
        dagsmith,
        url.render_as_string(hide_password=False),
        "--query",
        "SELECT 1 AS x UNION SELECT 2",
    )
    assert profile["rows"] == {"value": 2, "estimated": False}
    assert "canary-pw-31" not in json.dumps(profile)
