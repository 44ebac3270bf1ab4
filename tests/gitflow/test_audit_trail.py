"""`build` and `pr` leave an audit trail: one record per agent step, who and which model,
the files written, no secret in any form; `dagsmith audit` shows and verifies it, and the
pull request's body links the runs that wrote its files (real processes, real PostgreSQL).

One build serves the module (it takes tens of seconds); a test that writes works on a copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.audit import trail
from agent.gitflow.pr import BODY_DIR
from connectors import masking
from connectors.spec import load_spec, spec_hash
from tests.conftest import Cli, Database, postgres_schema
from tests.gitflow.conftest import make_repo

pytestmark = pytest.mark.postgres

PASSWORD = "Audit-S3cret-7f2q"
"""PostgreSQL here trusts loopback logins, so any password connects: this one must never
reach the trail."""


def build_from_postgres(repo: Path, postgres: Database, dagsmith: Cli) -> None:
    table = postgres.table("orders").replace('"', "")
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id int primary key, status varchar(10))")
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1, 'paid'), (2, 'open')")
    # The password reaches the tools through the connection, as in production.
    url = postgres.url.set(password=PASSWORD).render_as_string(hide_password=False)
    url = url.replace("postgresql+psycopg2://", "postgresql://")
    request = f"read table {table} on connection shop into mart.orders every day"
    env = {"DAGSMITH_MODEL": "offline", "AIRFLOW_CONN_SHOP": url}
    done = dagsmith("build", request, cwd=repo, env=env)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dagsmith: Cli) -> Iterator[Path]:
    """The `repo` of tests/gitflow/conftest.py after `build_from_postgres`: only read."""
    with postgres_schema() as postgres:
        repo = make_repo(tmp_path_factory.mktemp("audit") / "shop")
        build_from_postgres(repo, postgres, dagsmith)
        yield repo


def test_build_records_each_step_and_no_secret(built: Path, dagsmith: Cli) -> None:
    repo = built
    path = trail.trail_path(repo)
    text = path.read_text()
    leaked = [form for form in masking.derived_forms(PASSWORD) if form in text]
    assert leaked == []
    records = [json.loads(line) for line in text.splitlines()]
    tools = [r["tool"] for r in records]
    assert tools[0] == "profile_source" and tools[-1] == "reply"
    for step in ("validate_spec", "render_dag", "dry_run", "save_pipeline"):
        assert step in tools
    assert {(r["command"], r["user"], r["model"], r["model_version"]) for r in records} == {
        ("build", "Dev <dev@example.com>", "offline", "dagsmith 0.1.0")
    }
    assert len({r["run"] for r in records}) == 1
    (saved,) = [r for r in records if r["tool"] == "save_pipeline"]
    assert saved["files"] == ["pipelines/orders.yaml", "dags/orders.py"]
    assert saved["spec_after"] == spec_hash(load_spec(repo / "pipelines" / "orders.yaml"))
    assert records[0]["spec_before"] is None

    shown = dagsmith("audit", cwd=repo)
    assert shown.returncode == 0, shown.stderr
    assert "save_pipeline ok · Dev <dev@example.com> · offline (dagsmith 0.1.0)" in shown.stdout
    as_json = dagsmith("audit", "--json", "--since", "1h", cwd=repo)
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == records
    assert dagsmith("audit", "--since", "2099-01-01", "--json", cwd=repo).stdout == ""


def test_pr_links_the_runs_that_wrote_its_files_and_verify_finds_tampering(
    built: Path, tmp_path: Path, dagsmith: Cli
) -> None:
    repo = shutil.copytree(built, tmp_path / "shop")
    records = list(trail.read(trail.trail_path(repo)))
    env = {"AIRFLOW_CONN_SHOP": "postgresql://postgres@127.0.0.1:5432/test"}
    opened = dagsmith("pr", "pipelines/orders.yaml", "--no-open", cwd=repo, env=env)
    assert opened.returncode == 0, opened.stderr
    (body,) = (repo / BODY_DIR).glob("*.md")
    text = body.read_text()
    assert "## Audit trail" in text
    assert f"| `{records[-1]['run']}` | build | Dev <dev@example.com> |" in text.replace(
        "&lt;", "<"
    ).replace("&gt;", ">")
    assert f"`{records[-1]['hash'][:16]}`" in text

    after = list(trail.read(trail.trail_path(repo)))
    assert after[:-1] == records
    assert after[-1]["command"] == "pr" and after[-1]["files"] == [
        "dags/orders.py",
        "pipelines/orders.yaml",
    ]
    assert dagsmith("audit", "--verify", cwd=repo).returncode == 0

    path = trail.trail_path(repo)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2] + lines[3:]))  # a step removed
    removed = dagsmith("audit", "--verify", cwd=repo)
    assert removed.returncode == 1
    assert "record 3 (" in removed.stderr and "removed" in removed.stderr
    path.write_text("".join(lines).replace('"status": "ok"', '"status": "error"', 1))
    edited = dagsmith("audit", "--verify", cwd=repo)
    assert edited.returncode == 1 and "record 1 (" in edited.stderr and "edited" in edited.stderr
