"""Incidents of CSV sources: the file a run reads changes under the spec."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.incidents.harness import Project

ORDERS = """\
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    transform: {types: {id: bigint, amount: "decimal(10,2)"}}
    load: {table: {table}, mode: append}
"""
REQUIRED = ORDERS.replace("}}\n", "}, required: [amount]}\n", 1)
INCREMENTAL = """\
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    transform: {types: {id: bigint, amount: "decimal(10,2)", updated_at: timestamptz}}
    load: {table: {table}, mode: MODE}
    incremental: {cursor: updated_at}
"""


def orders(project: Project, count: int) -> None:
    """`data/orders.csv`: orders 1 to `count`."""
    project.data("orders.csv", "id,amount", (f"{i},{i}.50" for i in range(1, count + 1)))


def versions(project: Project, ids: range, copies: int = 1) -> None:
    """`data/orders.csv` with timestamped orders: each id in `ids`, `copies` versions of it,
    each version later (and dearer) than the one before."""
    rows = (
        f"{i},{i + v}.00,2026-11-01T{i // 60:02d}:{i % 60:02d}:{v:02d}Z"
        for i in ids
        for v in range(copies)
    )
    project.data("orders.csv", "id,amount,updated_at", rows)


def met(project: Project, status: str) -> dict[str, Any]:
    """The run that meets the incident, which must end as `status`."""
    run = project.run()
    assert run["status"] == status, run
    return run


def bad_values(project: Project) -> str:
    """`amount` starts to hold `N/A` in 12 of the 100 rows: the type rule rejects them."""
    project.spec(ORDERS)
    orders(project, 100)
    project.runs(5)
    project.data(
        "orders.csv", "id,amount", (f"{i},{'N/A' if i % 8 == 0 else i}" for i in range(1, 101))
    )
    run = met(project, "ok")
    assert (run["rows_rejected"], run["rows_loaded"]) == (12, 88)
    return str(run["run_id"])


def loads_every_row(project: Project) -> None:
    """The change applied, the same file loads whole."""
    run = project.run()
    assert (run["status"], run["rows_rejected"], run["rows_loaded"]) == ("ok", 0, 100), run


def new_column(project: Project) -> str:
    """The file gains a column `coupon`; the default contract (`new_columns: fail`) refuses."""
    project.spec(ORDERS)
    orders(project, 100)
    project.runs(2)
    project.data("orders.csv", "id,amount,coupon", (f"{i},{i},C{i}" for i in range(1, 101)))
    run = met(project, "failed")
    assert "coupon" in run["error"]
    return str(run["run_id"])


def loads_the_coupons(project: Project) -> None:
    run = project.run()
    assert (run["status"], run["rows_loaded"]) == ("ok", 100), run
    assert project.count("coupon = 'C7'") == 1


def renamed_column(project: Project) -> str:
    """`amount` becomes `amount_eur` in the file; the spec's types and rules name `amount`."""
    project.spec(REQUIRED)
    orders(project, 100)
    project.runs(2)
    project.data("orders.csv", "id,amount_eur", (f"{i},{i}" for i in range(1, 101)))
    run = met(project, "failed")
    assert "'amount'" in run["error"] and "amount_eur" in run["error"]
    return str(run["run_id"])


def loads_the_amounts(project: Project) -> None:
    run = project.run()
    assert (run["status"], run["rows_rejected"], run["rows_loaded"]) == ("ok", 0, 100), run
    assert project.count("amount IS NOT NULL") == 300  # two healthy runs, and this one


def volume_drop(project: Project) -> str:
    """100 orders a run, then 20."""
    project.spec(ORDERS)
    orders(project, 100)
    project.runs(5)
    orders(project, 20)
    return str(met(project, "ok")["run_id"])


def volume_spike(project: Project) -> str:
    """100 orders a run, then 1,000."""
    project.spec(ORDERS)
    orders(project, 100)
    project.runs(5)
    orders(project, 1000)
    return str(met(project, "ok")["run_id"])


def source_stalled(project: Project) -> str:
    """An incremental source grows twice, then its file stays the same for three runs."""
    project.spec(INCREMENTAL.replace("MODE", "upsert, keys: [id]"))
    for last in (10, 20, 20, 20, 20):
        versions(project, range(1, last + 1))
        last_run = project.run()
    assert last_run["rows_loaded"] == 0, last_run
    return str(last_run["run_id"])


def duplicate_keys(project: Project) -> str:
    """An incremental append into a table someone gave a primary key; then the source sends
    every new order four times (a join upstream went wrong) and the load fails on the key."""
    project.spec(INCREMENTAL.replace("MODE", "append"))
    versions(project, range(1, 11))
    project.runs(1)
    versions(project, range(1, 21))
    project.runs(1)
    with project.db.engine.begin() as conn:
        table = conn.dialect.identifier_preparer.format_table(
            sa.table("orders", schema=project.db.schema)
        )
        conn.execute(sa.text(f"ALTER TABLE {table} ADD PRIMARY KEY (id)"))
    versions(project, range(21, 31), copies=4)
    run = met(project, "failed")
    assert run["rows_read"] == 40, run
    return str(run["run_id"])


def keeps_the_latest_version(project: Project) -> None:
    run = project.run()
    assert (run["status"], run["rows_loaded"]) == ("ok", 10), run
    assert project.count() == 30 and project.count("id = 21 AND amount = 24") == 1
