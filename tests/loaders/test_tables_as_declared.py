"""A table the loader creates carries exactly what the spec declares, read from the catalog:
the types, the upsert keys as primary key, NOT NULL on the keys, on `required` and on the
source's non-null fields, and no default, sequence, identity or auto-increment anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.loaders import loader_for
from connectors.runner import run_pipeline
from connectors.spec.io import parse_spec
from tests.conftest import Database
from tests.loaders.conftest import make_job


@dataclass(frozen=True)
class Column:
    """A column as the catalog describes it."""

    type: str
    not_null: bool
    default: object


@dataclass(frozen=True)
class Catalog:
    """What the catalog says of one table: its columns, primary key and number generators."""

    columns: dict[str, Column]
    primary_key: list[str]
    generators: list[str]
    """Sequences owned by the table, identity or auto-increment columns, rowid aliases."""


def _one(conn: sa.Connection, query: str, **params: object) -> list[tuple[object, ...]]:
    return [tuple(row) for row in conn.execute(sa.text(query), params)]


def _postgres(conn: sa.Connection, schema: str, table: str) -> Catalog:
    where = {"s": schema, "t": table}
    columns = _one(
        conn,
        "SELECT column_name, format_type(a.atttypid, a.atttypmod), is_nullable, column_default, "
        "is_identity FROM information_schema.columns c JOIN pg_attribute a "
        "ON a.attrelid = to_regclass(quote_ident(:s) || '.' || quote_ident(:t)) "
        "AND a.attname = c.column_name WHERE table_schema = :s AND table_name = :t "
        "ORDER BY ordinal_position",
        **where,
    )
    keys = _one(
        conn,
        "SELECT k.column_name FROM information_schema.table_constraints c "
        "JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) "
        "WHERE c.table_schema = :s AND c.table_name = :t AND constraint_type = 'PRIMARY KEY' "
        "ORDER BY k.ordinal_position",
        **where,
    )
    owned = _one(
        conn,
        "SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
        "WHERE s.relkind = 'S' AND d.refobjid = to_regclass(quote_ident(:s) || '.' || "
        "quote_ident(:t))",
        **where,
    )
    return Catalog(
        {str(n): Column(str(t), null == "NO", d) for n, t, null, d, _ in columns},
        [str(k) for (k,) in keys],
        [str(s) for (s,) in owned] + [str(n) for n, *_, ident in columns if ident == "YES"],
    )


def _mariadb(conn: sa.Connection, schema: str, table: str) -> Catalog:
    columns = _one(
        conn,
        "SELECT column_name, column_type, is_nullable, column_default, column_key, extra "
        "FROM information_schema.columns WHERE table_schema = :s AND table_name = :t "
        "ORDER BY ordinal_position",
        s=schema,
        t=table,
    )
    sequences = _one(
        conn,
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = :s AND (table_type = 'SEQUENCE' OR auto_increment IS NOT NULL)",
        s=schema,
    )
    # MariaDB spells the implicit default of a nullable column as the text NULL.
    return Catalog(
        {
            str(n): Column(str(t), null == "NO", None if d == "NULL" else d)
            for n, t, null, d, *_ in columns
        },
        [str(n) for n, *_, key, _ in columns if key == "PRI"],
        [str(s) for (s,) in sequences] + [str(n) for n, *_, extra in columns if extra],
    )


def _sqlite(conn: sa.Connection, table: str) -> Catalog:
    info = _one(conn, f"SELECT * FROM pragma_table_info('{table}')")
    keys = sorted((pk, str(name)) for _, name, _, _, _, pk in info if pk)
    ((ddl,),) = _one(conn, "SELECT sql FROM sqlite_master WHERE name = :t", t=table)
    generators = [str(s) for (s,) in _one(conn, "SELECT name FROM sqlite_master")]
    generators = [s for s in generators if s == "sqlite_sequence"]
    # A column declared exactly INTEGER PRIMARY KEY is the rowid: it numbers a NULL key.
    generators += [str(n) for _, n, t, _, _, pk in info if pk and str(t).upper() == "INTEGER"]
    if "AUTOINCREMENT" in str(ddl).upper():
        generators.append("AUTOINCREMENT")
    return Catalog(
        {str(n): Column(str(t), bool(notnull), d) for _, n, t, notnull, d, _ in info},
        [name for _, name in keys],
        generators,
    )


def _duckdb(conn: sa.Connection, schema: str, table: str) -> Catalog:
    where = {"s": schema, "t": table}
    columns = _one(
        conn,
        "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
        "WHERE schema_name = :s AND table_name = :t ORDER BY column_index",
        **where,
    )
    keys = _one(
        conn,
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = :s AND table_name = :t AND constraint_type = 'PRIMARY KEY'",
        **where,
    )
    sequences = _one(conn, "SELECT sequence_name FROM duckdb_sequences()")
    return Catalog(
        {str(n): Column(str(t), not nullable, d) for n, t, nullable, d in columns},
        [str(k) for k in keys[0][0]] if keys else [],
        [str(s) for (s,) in sequences],
    )


def catalog(db: Database, table: str) -> Catalog:
    """The catalog's description of a table of ours."""
    with db.engine.connect() as conn:
        match db.engine.dialect.name:
            case "postgresql":
                return _postgres(conn, db.schema or "", table)
            case "mysql":
                return _mariadb(conn, db.url.database or "", table)
            case "sqlite":
                return _sqlite(conn, table)
            case "duckdb":
                return _duckdb(conn, db.schema or "", table)
            case other:
                raise AssertionError(f"no catalog reader for {other}")


TYPES = {
    "postgresql": {
        "id": "integer",
        "region": "text",
        "name": "text",
        "code": "bigint",
        "amount": "numeric(12,2)",
        "at": "timestamp with time zone",
        "doc": "jsonb",
        "ok": "boolean",
    },
    "mysql": {
        "id": "int(11)",
        "region": "text",
        "name": "text",
        "code": "bigint(20)",
        "amount": "decimal(12,2)",
        "at": "datetime(6)",
        "doc": "longtext",
        "ok": "tinyint(1)",
    },
    "sqlite": {
        "id": "INT",
        "region": "TEXT",
        "name": "TEXT",
        "code": "BIGINT",
        "amount": "NUMERIC(12, 2)",
        "at": "DATETIME",
        "doc": "TEXT",
        "ok": "BOOLEAN",
    },
    "duckdb": {
        "id": "INTEGER",
        "region": "VARCHAR",
        "name": "VARCHAR",
        "code": "BIGINT",
        "amount": "DECIMAL(12,2)",
        "at": "TIMESTAMP WITH TIME ZONE",
        "doc": "JSON",
        "ok": "BOOLEAN",
    },
}
"""Each column's type as each catalog spells it (MariaDB's JSON is a checked LONGTEXT)."""


def _rows() -> pa.Table:
    """Two rows; `code` comes from a source that declares it never null."""
    schema = pa.schema(
        [
            pa.field("id", pa.int64()),
            pa.field("region", pa.string()),
            pa.field("name", pa.string()),
            pa.field("code", pa.int64(), nullable=False),
            pa.field("amount", pa.decimal128(12, 2)),
            pa.field("at", pa.timestamp("us", tz="UTC")),
            pa.field("doc", pa.string()),
            pa.field("ok", pa.bool_()),
        ]
    )
    return pa.table(
        {
            "id": [1, 2],
            "region": ["eu", "us"],
            "name": ["Ann", "Bo"],
            "code": [10, 20],
            "amount": [Decimal("9.50"), None],
            "at": [datetime(2024, 5, 1, 6, tzinfo=UTC), datetime(2024, 5, 2, 6, tzinfo=UTC)],
            "doc": ['{"a": 1}', None],
            "ok": [True, None],
        },
        schema=schema,
    )


DECLARED = {
    "id": "integer",
    "amount": "decimal(12,2)",
    "at": "timestamptz",
    "doc": "json",
}


def test_an_upsert_target_is_created_exactly_as_declared(database: Database) -> None:
    table = database.table("people")
    job = make_job(
        table, _rows(), mode="upsert", keys=["id"], declared=DECLARED, required=["name", "at"]
    )
    assert loader_for(database.url).load(job).rows_loaded == 2

    found = catalog(database, "people")
    dialect = database.engine.dialect.name
    assert {n: c.type for n, c in found.columns.items()} == TYPES[dialect]
    assert found.primary_key == ["id"]
    assert {n for n, c in found.columns.items() if c.not_null} == {"id", "name", "at", "code"}
    assert {n: c.default for n, c in found.columns.items() if c.default is not None} == {}
    assert found.generators == []


def test_a_composite_key_is_the_primary_key_and_nothing_numbers_it(database: Database) -> None:
    job = make_job(database.table("people"), _rows(), mode="upsert", keys=["region", "id"])
    loader_for(database.url).load(job)

    found = catalog(database, "people")
    assert sorted(found.primary_key) == ["id", "region"]
    assert {n for n, c in found.columns.items() if c.not_null} == {"id", "region", "code"}
    assert {n: c.default for n, c in found.columns.items() if c.default is not None} == {}
    assert found.generators == []


def test_an_append_target_has_no_key_and_no_default(database: Database) -> None:
    job = make_job(database.table("people"), _rows(), declared={"id": "integer"})
    loader_for(database.url).load(job)

    found = catalog(database, "people")
    assert found.primary_key == []
    assert {n for n, c in found.columns.items() if c.not_null} == {"code"}
    assert {n: c.default for n, c in found.columns.items() if c.default is not None} == {}
    assert found.generators == []


def test_a_row_without_its_key_is_refused_not_numbered(database: Database) -> None:
    job = make_job(database.table("people"), _rows(), mode="upsert", keys=["id"], declared=DECLARED)
    loader_for(database.url).load(job)

    quoted = ".".join(
        database.engine.dialect.identifier_preparer.quote(p)
        for p in database.table("people").split(".")
    )
    with database.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        conn.execute(sa.text(f"INSERT INTO {quoted} (region, code) VALUES ('eu', 30)"))
        conn.commit()


def test_the_spec_required_columns_reach_the_table_through_a_run(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "people.csv").write_text("id,name,email\n1,Ann,\n2,Bo,bo@example.com\n")
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", database.url.render_as_string(False))
    spec = parse_spec(
        f"""
pipeline: people
target: warehouse
streams:
  - name: people
    source: {{kind: csv, path: people.csv}}
    transform: {{types: {{id: integer}}, required: [name]}}
    load: {{table: {database.table("people")}, mode: upsert, keys: [id]}}
"""
    )
    summary = run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path)
    assert summary.ok, summary.to_dict()

    found = catalog(database, "people")
    assert {n for n, c in found.columns.items() if c.not_null} == {"id", "name"}
    assert {n: c.default for n, c in found.columns.items() if c.default is not None} == {}
    assert found.generators == []


SOURCE = """CREATE TABLE {table} (id integer NOT NULL, code bigint NOT NULL, label text NOT NULL,
    amount text NOT NULL, note text, qty integer);
INSERT INTO {table} VALUES (1, 10, 'Ann', '12', NULL, NULL), (2, 20, 'Bo', '', 'late', 3),
    (3, 30, 'Cy', 'x', NULL, 4)"""
"""A source table: NOT NULL columns, nullable ones; `amount` is text, one value empty, one bad."""


def _run_from_table(
    source: Database,
    target: Database,
    transform: str,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Catalog:
    """Load the SOURCE table of `source` into `target` through a run; the target's catalog."""
    with source.engine.begin() as conn:
        for statement in SOURCE.format(table=source.table("src")).split(";\n"):
            conn.exec_driver_sql(statement)
    monkeypatch.setenv("AIRFLOW_CONN_SRC", source.url.render_as_string(False))
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", target.url.render_as_string(False))
    spec = parse_spec(
        f"""
pipeline: orders
target: warehouse
streams:
  - name: orders
    source: {{kind: sql, connection: src, table: {source.table("src")}}}
    transform: {transform}
    load: {{table: {target.table("orders")}}}
"""
    )
    summary = run_pipeline(spec, base_dir=folder, project_dir=folder)
    assert summary.ok, summary.to_dict()
    return catalog(target, "orders")


@pytest.mark.parametrize("source", ["postgres", "mariadb"])
def test_a_source_tables_not_null_reaches_the_created_table(
    source: str,
    database: Database,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Rename, a widening cast, drop and trimming only the listed text keep NOT NULL.
    transform = (
        "{rename: {code: product_code}, types: {id: bigint}, drop: [amount], "
        "strings: {columns: [note]}}"
    )
    found = _run_from_table(
        request.getfixturevalue(source), database, transform, tmp_path, monkeypatch
    )

    assert list(found.columns) == ["id", "product_code", "label", "note", "qty"]
    assert {n for n, c in found.columns.items() if c.not_null} == {"id", "product_code", "label"}
    assert found.primary_key == []
    assert {n: c.default for n, c in found.columns.items() if c.default is not None} == {}


@pytest.mark.parametrize("source", ["postgres", "mariadb"])
def test_a_rule_that_can_null_a_value_leaves_its_column_nullable(
    source: str,
    database: Database,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Text cast to integer: a bad value's row is rejected, an empty text reads as null.
    # The default `strings` rule (empty text as null) would null `label` too: it is off.
    transform = "{types: {amount: integer}, strings: {empty_as_null: false}, drop: [note, qty]}"
    found = _run_from_table(
        request.getfixturevalue(source), database, transform, tmp_path, monkeypatch
    )

    assert {n for n, c in found.columns.items() if c.not_null} == {"id", "code", "label"}
    assert [row[-1] for row in database.rows(database.table("orders"), "id")] == [12, None]
