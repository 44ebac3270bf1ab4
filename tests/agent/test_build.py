"""`dagsmith build` end to end with the offline planner: a real process, real files."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import palmerpenguins
import pytest

from connectors.spec import load_spec
from tests.conftest import Cli

ORDERS = (
    "Every day at 06:00 load examples/data/orders.csv into table orders, upsert on order_id, "
    "rename OrderID to order_id, drop rows without customer_id"
)


PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def build(dagsmith: Cli, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return dagsmith("build", *args, cwd=project, env={"DAGSMITH_MODEL": "offline"})


def test_build_writes_a_spec_and_a_dag_that_check_passes(project: Path, dagsmith: Cli) -> None:
    result = build(dagsmith, project, ORDERS)
    assert result.returncode == 0, result.stderr
    for step in ("profile_source", "infer_schema", "validate_spec", "render_dag", "dry_run"):
        assert f"→ {step}" in result.stderr
    spec = (project / "pipelines" / "orders.yaml").read_text()
    assert "path: ../examples/data/orders.csv" in spec
    assert "keys:\n    - order_id" in spec
    assert (project / "dags" / "orders.py").is_file()
    checked = dagsmith("check", cwd=project)
    assert checked.returncode == 0, checked.stderr


def test_build_run_loads_rows_into_the_embedded_duckdb(project: Path, dagsmith: Cli) -> None:
    result = build(dagsmith, project, ORDERS, "--run")
    assert result.returncode == 0, result.stderr
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        ids = [row[0] for row in conn.execute("SELECT order_id FROM orders ORDER BY 1").fetchall()]
        rejected = conn.execute("SELECT COUNT(*) FROM orders__rejects").fetchall()[0][0]
    assert ids == sorted(set(ids)) and len(ids) == 9
    assert rejected == 1  # the row without a customer_id


def test_build_without_a_table_fails_with_the_question(project: Path, dagsmith: Cli) -> None:
    result = build(dagsmith, project, "load examples/data/orders.csv every day")
    assert result.returncode == 2
    assert "Which table should the rows go into?" in result.stderr
    assert not (project / "pipelines").exists()


def test_replacing_a_table_with_data_needs_yes(project: Path, dagsmith: Cli) -> None:
    assert build(dagsmith, project, ORDERS, "--run").returncode == 0
    replace = "load examples/data/orders.csv into orders, replace it, call it orders_full"
    refused = build(dagsmith, project, replace)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert not (project / "pipelines" / "orders_full.yaml").exists()
    assert build(dagsmith, project, replace, "--yes").returncode == 0


def test_overwriting_another_spec_needs_yes(project: Path, dagsmith: Cli) -> None:
    assert (
        build(dagsmith, project, "load examples/data/orders.csv into orders hourly").returncode == 0
    )
    daily = "load examples/data/orders.csv into orders daily"
    refused = build(dagsmith, project, daily)
    assert refused.returncode == 2
    assert "pipelines/orders.yaml exists" in refused.stderr
    assert "To go on: run the build again with --yes to allow it" in refused.stderr
    assert "ask the user" not in refused.stderr and "agent:" not in refused.stderr
    assert "@hourly" in (project / "pipelines" / "orders.yaml").read_text()
    assert build(dagsmith, project, daily, "--yes").returncode == 0
    assert "@daily" in (project / "pipelines" / "orders.yaml").read_text()


def test_dropping_columns_the_saved_pipeline_loads_needs_yes(project: Path, dagsmith: Cli) -> None:
    assert build(dagsmith, project, "load examples/data/orders.csv into orders").returncode == 0
    narrower = "load examples/data/orders.csv into orders, drop columns note"
    refused = build(dagsmith, project, narrower)
    assert refused.returncode == 2
    assert "drops columns the saved pipeline loads (orders: note)" in refused.stderr
    assert "drop" not in (project / "pipelines" / "orders.yaml").read_text()
    assert build(dagsmith, project, narrower, "--yes").returncode == 0
    assert "drop:\n    - note" in (project / "pipelines" / "orders.yaml").read_text()


@pytest.mark.parametrize("model", ["nonsense", "openai"])
def test_an_unknown_model_is_a_clear_error(project: Path, model: str, dagsmith: Cli) -> None:
    result = build(dagsmith, project, ORDERS, "--model", model)
    assert result.returncode == 2
    assert "provider:model" in result.stderr


def test_a_failed_dry_run_writes_nothing_and_exits_1(project: Path, dagsmith: Cli) -> None:
    # The planner checks names against the profile, so the failure is one only the data shows.
    result = build(
        dagsmith,
        project,
        "load examples/data/orders.csv into table orders, cast note to bigint, "
        "fail if more than 1 rows are rejected",
    )
    assert result.returncode == 1, result.stderr
    assert "  ✗ the dry run failed for orders" in result.stderr
    assert "status failed" not in "\n".join(
        line for line in result.stderr.splitlines() if "✓" in line
    )
    assert "✗ build failed at the dry run (dry_run)" in result.stderr
    assert "max_rejects is 1" in result.stderr
    assert "what to change:" in result.stderr
    assert "nothing was written: no spec, no DAG" in result.stderr
    assert not (project / "pipelines").exists() and not (project / "dags").exists()


def test_a_pipeline_built_to_run_after_another_renders_its_upstream(
    project: Path, dagsmith: Cli
) -> None:
    assert build(dagsmith, project, ORDERS).returncode == 0
    after = "load examples/data/orders.csv into order_copy once the orders pipeline has loaded"
    result = build(dagsmith, project, after)
    assert result.returncode == 0, result.stderr
    assert (
        "schedule:\n  after:\n  - orders\n"
        in (project / "pipelines" / "order_copy.yaml").read_text()
    )
    dag = (project / "dags" / "order_copy.py").read_text()
    upstream = "{'pipeline': 'orders', 'stream': 'orders', 'target': None, 'table': 'orders'}"
    assert f"UPSTREAM = [{upstream}]" in dag
    assert dagsmith("check", cwd=project).returncode == 0
    # Without the upstream's spec, nothing is written: the question names what is missing.
    missing = build(dagsmith, project, after.replace("orders pipeline", "returns pipeline"))
    assert missing.returncode != 0
    assert "no spec in" in missing.stderr and "defines pipeline 'returns'" in missing.stderr


SHIPMENTS = "id,shipped,paid,amount\n" + "".join(
    f"{i},{12 + i:02d}/{i:02d}/2024,{'Y' if i % 2 else 'N'},{i}.50\n" for i in range(1, 10)
)
"""Dates that read only day first (a day above 12 comes first), Y/N flags."""


@pytest.fixture
def shipments(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "shipments.csv").write_text(SHIPMENTS)
    return tmp_path


@pytest.mark.parametrize(
    "order", ["dates are month first", "dates in shipped are month first", "month first"]
)
def test_an_order_the_values_refute_is_a_question_naming_column_and_value(
    shipments: Path, order: str, dagsmith: Cli
) -> None:
    result = build(dagsmith, shipments, f"load data/shipments.csv into table s, {order}")
    assert result.returncode == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert "shipped holds '13/01/2024'" in said and "its values read day first" in said
    assert not (shipments / "pipelines").exists()


@pytest.mark.parametrize(
    "clauses",
    [
        "amounts use a comma for thousands, treat Y as true and N as false for paid",
        "treat Y as true and N as false for paid, amounts use a comma for thousands",
        "dates are day first, treat Y as true and N as false for paid",
    ],
)
def test_comma_joined_format_clauses_each_read_their_own_columns(
    shipments: Path, clauses: str, dagsmith: Cli
) -> None:
    result = build(dagsmith, shipments, f"load data/shipments.csv into table s, {clauses}")
    assert result.returncode == 0, result.stderr
    paid = load_spec(shipments / "pipelines" / "s.yaml").streams[0].transform.types["paid"]
    assert (paid.name, paid.format and paid.format.true_values) == ("boolean", ("Y",))


def test_a_built_spec_runs_from_another_folder(shipments: Path, dagsmith: Cli) -> None:
    assert build(dagsmith, shipments, "load data/shipments.csv into table s").returncode == 0
    elsewhere = shipments / "elsewhere"
    elsewhere.mkdir()
    spec = shipments / "pipelines" / "s.yaml"
    ran = dagsmith("run", str(spec), "--json", cwd=elsewhere)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["streams"][0]["rows_loaded"] == 9


def test_a_dry_run_rejecting_every_row_is_refused_and_saves_nothing(
    project: Path, dagsmith: Cli
) -> None:
    (project / "data").mkdir()
    shutil.copyfile(PENGUINS, project / "data" / "penguins.csv")

    result = build(dagsmith, project, "load data/penguins.csv into birds.p, cast island to bigint")

    assert result.returncode == 1, result.stderr
    assert "✗ build failed at the dry run (dry_run)" in result.stderr
    assert "p: rejected every row it could load (read 200, rejected 200, loaded 0" in result.stderr
    assert "rejected 92: \"column 'island': 'Biscoe' is not a valid bigint\"" in result.stderr
    assert "change or drop the rule the reasons name" in result.stderr
    assert not (project / "pipelines").exists() and not (project / "dags").exists()
