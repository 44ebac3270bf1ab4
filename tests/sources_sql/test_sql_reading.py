"""Tables and queries stream in bounded batches, from all three databases."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from tests.conftest import Database

from .conftest import run


def _fill(db: Database, rows: int) -> str:
    t = db.table("items")
    run(db, f"CREATE TABLE {t} (id integer, label varchar(20))")
    if rows:
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(f"INSERT INTO {t} VALUES (:id, :label)"),
                [{"id": i, "label": f"item {i}"} for i in range(rows)],
            )
    return t


def test_a_table_larger_than_a_batch_streams_in_bounded_batches(
    database: Database, reader: Any
) -> None:
    t = _fill(database, 2500)
    batches = reader(database, batch_rows=1000, table=t)
    assert [b.num_rows for b in batches] == [1000, 1000, 500]
    assert len({b.schema for b in batches}) == 1
    assert sorted(pa.Table.from_batches(batches).column("id").to_pylist()) == list(range(2500))


def test_a_query_larger_than_a_batch_streams_in_bounded_batches(
    database: Database, reader: Any
) -> None:
    t = _fill(database, 2500)
    batches = reader(database, batch_rows=1000, query=f"SELECT id FROM {t} ORDER BY id")
    assert [b.num_rows for b in batches] == [1000, 1000, 500]


def test_an_empty_table_gives_one_empty_batch_with_its_columns(
    database: Database, reader: Any
) -> None:
    t = _fill(database, 0)
    [batch] = reader(database, table=t)
    assert batch.num_rows == 0
    assert batch.schema.names == ["id", "label"]


def test_columns_picks_and_orders_columns(database: Database, reader: Any) -> None:
    t = _fill(database, 3)
    table = pa.Table.from_batches(reader(database, table=t, columns=["label", "id"]))
    assert table.schema.names == ["label", "id"]


def test_a_schema_qualified_table(postgres: Database, mariadb: Database, reader: Any) -> None:
    pg_table = _fill(postgres, 3)
    assert "." in pg_table
    assert pa.Table.from_batches(reader(postgres, table=pg_table)).num_rows == 3
    _fill(mariadb, 4)
    qualified = f"{mariadb.url.database}.items"
    assert pa.Table.from_batches(reader(mariadb, table=qualified)).num_rows == 4


def test_a_query_with_a_join_and_a_cte(database: Database, reader: Any) -> None:
    orders, customers = database.table("orders"), database.table("customers")
    run(
        database,
        f"""CREATE TABLE {customers} (id integer, name varchar(20));
        CREATE TABLE {orders} (id integer, customer_id integer, amount integer);
        INSERT INTO {customers} VALUES (1, 'Zoë'), (2, 'bob');
        INSERT INTO {orders} VALUES (1, 1, 5), (2, 1, 20), (3, 2, 30), (4, 2, 40)""",
    )
    query = f"""
        WITH big AS (
            SELECT o.amount, c.name FROM {orders} o JOIN {customers} c ON c.id = o.customer_id
            WHERE o.amount > 10 AND c.name LIKE '%%' AND '10:30' <> ':x'  -- a % and colons
        )
        SELECT name, SUM(amount) AS total FROM big GROUP BY name ORDER BY name"""
    table = pa.Table.from_batches(reader(database, batch_rows=1, query=query))
    rows = sorted((r["name"], int(r["total"])) for r in table.to_pylist())
    assert rows == [("Zoë", 20), ("bob", 70)]


def test_a_union_of_selects(database: Database, reader: Any) -> None:
    table = pa.Table.from_batches(reader(database, query="SELECT 1 AS n UNION ALL SELECT 2 AS n"))
    assert sorted(int(v) for v in table.column("n").to_pylist()) == [1, 2]


def test_a_tables_not_null_columns_are_non_nullable_fields(database: Database, reader: Any) -> None:
    t = database.table("people")
    run(database, f"CREATE TABLE {t} (id integer NOT NULL, name varchar(20) NOT NULL, note text)")
    assert [f.nullable for f in reader(database, table=t)[0].schema] == [False, False, True]
    picked = reader(database, table=t, columns=["note", "id"])[0].schema
    assert [f.nullable for f in picked] == [True, False]


def test_a_querys_columns_are_nullable_whatever_the_description_says(
    database: Database, reader: Any
) -> None:
    # MariaDB describes `id` of a ROLLUP as NOT NULL, and gives the total row a NULL there.
    t = database.table("people")
    run(database, f"CREATE TABLE {t} (id integer NOT NULL, n integer NOT NULL)")
    run(database, f"INSERT INTO {t} VALUES (1, 2), (2, 3)")
    rollup = " WITH ROLLUP" if database.engine.dialect.name == "mysql" else ""
    [batch] = reader(database, query=f"SELECT id, SUM(n) AS total FROM {t} GROUP BY id{rollup}")
    assert [f.nullable for f in batch.schema] == [True, True]
