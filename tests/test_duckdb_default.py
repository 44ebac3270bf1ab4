"""What a new user writes, run on the embedded default target (DuckDB), as a real process."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Cli
from tests.test_cli import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project: no target configured anywhere."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path


def warehouse(project: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(project / ".dagsmith" / "warehouse.duckdb"), read_only=True)


def test_a_sentence_naming_schema_dot_table_builds_and_runs(project: Path, dagsmith: Cli) -> None:
    sentence = (
        "Load examples/data/orders.csv into table sales.orders, upsert on order_id, "
        "rename OrderID to order_id"
    )
    built = dagsmith("build", sentence, "--run", "--yes", cwd=project)
    assert built.returncode == 0, built.stderr + built.stdout
    assert "look at the rows: duckdb .dagsmith/warehouse.duckdb" in built.stdout
    with warehouse(project) as con:
        ids = con.execute("SELECT order_id FROM sales.orders ORDER BY 1").fetchall()
        runs = con.execute("SELECT target_table, mode FROM sales._dagsmith_runs").fetchall()
    assert len(ids) == len(set(ids)) >= 5
    assert runs == [("sales.orders", "upsert")]


def test_the_demo_command_runs_on_the_embedded_duckdb(project: Path, dagsmith: Cli) -> None:
    makefile = (ROOT / "Makefile").read_text()
    demo = re.search(r'^DEMO := (".*")$', makefile, re.MULTILINE)
    command = re.search(r"^\t\$\(BIN\)/dagsmith (build .*)$", makefile, re.MULTILINE)
    assert demo and command
    args = shlex.split(command.group(1).replace("$(DEMO)", demo.group(1)))
    result = dagsmith(*args, cwd=project)
    assert result.returncode == 0, result.stderr + result.stdout
    with warehouse(project) as con:
        (count,) = con.execute("SELECT count(*) FROM demo_orders").fetchall()[0]
        rejected = con.execute("SELECT count(*) FROM demo_orders__rejects").fetchall()[0][0]
    assert count == 9 and rejected == 1  # the row without a customer_id
    # The README's next command, in the same folder: the hand-written example loads beside it.
    example = dagsmith("run", "examples/orders.yaml", cwd=project)
    assert example.returncode == 0, example.stderr + example.stdout
