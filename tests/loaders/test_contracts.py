"""A stream's schema contract against a table whose columns moved on, through
`run_pipeline` into each real database: new columns added (in the load's transaction,
undone if the load fails), ignored or refused; missing columns loaded as NULL or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.errors import DagsmithError, LoadError
from connectors.runner import run_pipeline
from connectors.spec import parse_spec
from tests.conftest import Database


def _load(
    folder: Path, db: Database, csv: str, contract: str = "", transform: str = "", types: str = ""
) -> int:
    """Load `csv` into the database's orders table; the rows loaded, or the stream's error."""
    (folder / "orders.csv").write_text(csv)
    spec = f"""
pipeline: contracts
target: warehouse
streams:
  - name: orders
    source: {{kind: csv, path: orders.csv}}
    transform: {{types: {{id: bigint{types}}}{transform}}}
    load: {{table: {db.table("orders").replace('"', "")}, mode: append}}
    {contract}
"""
    summary = run_pipeline(parse_spec(spec), base_dir=folder, project_dir=folder)
    (result,) = summary.streams
    if result.error is not None:
        raise result.error
    return result.stats.rows_loaded


def _columns(db: Database) -> list[str]:
    if db.url.get_backend_name() == "duckdb":  # duckdb-engine cannot reflect on SQLAlchemy 2.1
        query = sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = :s "
            "AND table_name = 'orders' ORDER BY ordinal_position"
        )
        with db.engine.connect() as conn:
            return [row[0] for row in conn.execute(query, {"s": db.schema})]
    columns = sa.inspect(db.engine).get_columns("orders", schema=db.schema)
    return [c["name"].lower() for c in columns]


@pytest.fixture
def db(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", database.url.render_as_string(False))
    assert _load(tmp_path, database, "id,name\n1,ann\n") == 1
    return database


def test_new_columns_fail_by_default_and_say_which_setting_accepts_them(
    db: Database, tmp_path: Path
) -> None:
    with pytest.raises(LoadError, match=r"'email'.*missing from the table") as caught:
        _load(tmp_path, db, "id,name,email\n2,bo,bo@example.com\n")
    assert "new_columns: add" in (caught.value.hint or "")
    assert _columns(db) == ["id", "name"]


def test_new_columns_added_to_the_table(db: Database, tmp_path: Path) -> None:
    csv = "id,name,email\n2,bo,bo@example.com\n"
    assert _load(tmp_path, db, csv, "contract: {new_columns: add}") == 1
    assert _columns(db) == ["id", "name", "email"]
    assert db.rows(db.table("orders")) == [(1, "ann", None), (2, "bo", "bo@example.com")]


def test_new_columns_ignored(db: Database, tmp_path: Path) -> None:
    csv = "id,name,email\n2,bo,bo@example.com\n"
    assert _load(tmp_path, db, csv, "contract: {new_columns: ignore}") == 1
    assert _columns(db) == ["id", "name"]
    assert db.rows(db.table("orders")) == [(1, "ann"), (2, "bo")]


def test_a_failed_load_leaves_no_added_column(db: Database, tmp_path: Path) -> None:
    """The bad id is rejected, and a reject limit of 0 fails the load at commit."""
    csv = "id,name,email\n2,bo,bo@example.com\nx,cy,cy@example.com\n"
    with pytest.raises(DagsmithError, match="reject"):
        _load(tmp_path, db, csv, "contract: {new_columns: add}", ", max_rejects: 0")
    assert _columns(db) == ["id", "name"]
    assert db.rows(db.table("orders")) == [(1, "ann")]


def test_missing_columns_load_as_null_or_fail(db: Database, tmp_path: Path) -> None:
    assert _load(tmp_path, db, "id\n2\n") == 1
    with pytest.raises(LoadError, match=r"has column\(s\) the extract does not: name") as caught:
        _load(tmp_path, db, "id\n3\n", "contract: {missing_columns: fail}")
    assert "missing_columns: null" in (caught.value.hint or "")
    assert db.rows(db.table("orders")) == [(1, "ann"), (2, None)]


def test_a_changed_type_fails_by_default_or_rejects_the_rows_that_do_not_fit(
    db: Database, tmp_path: Path
) -> None:
    """The table's qty is an integer; the source's qty became text ("lots")."""
    table = db.table("orders").replace('"', "")
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {table}"))
    assert _load(tmp_path, db, "id,name,qty\n1,ann,5\n", types=", qty: bigint") == 1
    changed = "id,name,qty\n2,bo,7\n3,cy,lots\n"
    with pytest.raises(LoadError, match=r"column 'qty' is .* in the table, string here") as caught:
        _load(tmp_path, db, changed)
    assert "type_change: reject_rows" in (caught.value.hint or "")
    assert _load(tmp_path, db, changed, "contract: {type_change: reject_rows}") == 1
    assert db.rows(db.table("orders")) == [(1, "ann", 5), (2, "bo", 7)]
    rejects = db.rows(db.table("orders__rejects"))
    assert [(r[2], r[3]) for r in rejects] == [
        ("contract", "column 'qty': 'lots' is not a valid bigint")
    ]
