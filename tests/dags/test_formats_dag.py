"""Types with a format through a generated DAG's stream task (`dag.test()`):
the same reading as `dagsmith run`, and the same reject reasons naming the format."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, run, unique

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ORDERS = """id;shipped;paid_at;amount;share;paid
1;05.03.2024;3/5/2024 1:07 PM;1.234,56;45%;Y
2;31.02.2024;3/5/2024 1:07 PM;12,5;5%;N
3;29.02.2024;3/31/2024 2:30 AM;(7,00);100%;ja
4;29.02.2024;10/27/2024 2:30 AM;(7,00);100%;ja
"""


def test_a_dag_reads_values_as_written(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    (tmp_path / "pipelines" / "data" / "orders.csv").write_text(ORDERS)
    spec = f"""
pipeline: {unique("formats")}
target: warehouse
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv, delimiter: ";"}}
    transform:
      types:
        id: integer
        shipped: {{type: date, format: "%d.%m.%Y"}}
        paid_at: {{type: timestamptz, format: "%m/%d/%Y %I:%M %p", timezone: Europe/Amsterdam}}
        amount: {{type: "decimal(12,2)", decimal: ",", thousands: ".", accounting: true}}
        share: {{type: "decimal(5,4)", percent: fraction}}
        paid: {{type: boolean, true_values: [Y, ja], false_values: [N, nee]}}
    load: {{table: {postgres.schema}.orders}}
"""
    state, tis = run(deploy(tmp_path, spec))
    assert state == "success", {k: ti.state for k, ti in tis.items()}
    loaded = [row[:6] for row in postgres.rows(postgres.table("orders"), "id")]  # no interval
    assert loaded == [
        (
            1,
            date(2024, 3, 5),
            datetime(2024, 3, 5, 12, 7, tzinfo=UTC),
            Decimal("1234.56"),
            Decimal("0.4500"),
            True,
        ),
        (
            4,
            date(2024, 2, 29),
            datetime(2024, 10, 27, 0, 30, tzinfo=UTC),  # twice that night: the earlier
            Decimal("-7.00"),
            Decimal("1.0000"),
            True,
        ),
    ]
    with postgres.engine.connect() as conn:
        reasons = conn.exec_driver_sql(
            f"SELECT reason FROM {postgres.table('orders__rejects')} ORDER BY row_number"
        ).scalars()
        assert list(reasons) == [
            "column 'shipped': '31.02.2024' is not a date in format %d.%m.%Y",
            "column 'paid_at': '3/31/2024 2:30 AM' does not exist in Europe/Amsterdam "
            "(a daylight saving gap)",
        ]
