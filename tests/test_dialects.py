"""A database is one module: its facts live in connectors/dialects/, and nothing else asks
which database it is talking to."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors import dberrors, dialects
from connectors.dialects.base import file_parts, file_url
from connectors.dialects.duckdb import DUCKDB
from connectors.dialects.mysql import MYSQL
from connectors.dialects.postgres import POSTGRES
from connectors.dialects.sqlite import SQLITE, family, native_path
from connectors.errors import LoadError, SpecError
from connectors.loaders import sql_merge
from connectors.loaders.prepare import rejects_table
from connectors.profiling.resolve import is_database_url
from connectors.types import ColumnType

ROOT = Path(__file__).resolve().parents[1]
_NAMES = "postgresql|postgres|mysql|mariadb|sqlite|sqlite3|duckdb"
BRANCHING = re.compile(
    r"\.dialect\.name\b"  # SQLAlchemy's name of an engine's or a connection's dialect
    r"|get_backend_name\("
    r"|drivername="
    rf"|[\"'](?:{_NAMES})[\"']"  # a database's name as a literal: compared, keyed, listed
)


def _branches() -> set[str]:
    found = set()
    for package in ("connectors", "agent"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("connectors/dialects/"):
                continue
            for line in path.read_text().splitlines():
                if BRANCHING.search(line):
                    found.add(f"{relative}: {line.strip()}")
    return found


def test_no_code_outside_the_dialects_asks_which_database_it_is() -> None:
    assert _branches() == set()


def test_the_pattern_sees_a_branch() -> None:
    assert BRANCHING.search('if conn.dialect.name == "mysql":')
    assert BRANCHING.search("url.get_backend_name()")
    assert BRANCHING.search('_QUOTES = {"mariadb": "`"}')
    assert not BRANCHING.search("if dialect.transactional_ddl:")


@pytest.mark.parametrize(
    ("named", "dialect"),
    [
        ("postgresql://u@h/db", POSTGRES),
        ("postgres://u@h/db", POSTGRES),
        ("postgresql+psycopg2://u@h/db", POSTGRES),
        ("mysql+pymysql://u@h/db", MYSQL),
        ("mariadb://u@h/db", MYSQL),
        ("sqlite:///x.db", SQLITE),
        ("duckdb:///x.duckdb", DUCKDB),
        (sa.make_url("mysql+pymysql://u@h/db"), MYSQL),
        (sa.create_engine("sqlite://"), SQLITE),
        ("postgresql", POSTGRES),
    ],
)
def test_urls_names_and_engines_resolve_to_their_dialect(
    named: sa.URL | sa.Engine | str, dialect: dialects.Dialect
) -> None:
    assert dialects.dialect_for(named) is dialect
    assert dialects.known(named) is dialect


def test_an_unknown_database_is_an_error_that_lists_the_known_ones() -> None:
    with pytest.raises(SpecError) as caught:
        dialects.dialect_for("nosuchdb://h/db")
    assert "nosuchdb" in str(caught.value)
    assert all(d.name in str(caught.value) for d in dialects.DIALECTS)


def test_another_sqlalchemy_database_gets_common_ground() -> None:
    other = dialects.dialect_for("mssql+pyodbc://u@h/db")
    assert other.name == "mssql"
    assert other.sqlglot == "tsql"
    assert other.read_only is None
    assert not other.transactional_ddl
    assert dialects.known("mssql://h") is None


def test_every_scheme_belongs_to_one_dialect() -> None:
    schemes = [s for d in dialects.DIALECTS for s in d.schemes]
    assert len(schemes) == len(set(schemes))
    assert all(d.name in d.schemes for d in dialects.DIALECTS)


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("postgresql+psycopg2://u@h/db", True),
        ("postgres://u@h/db", True),
        ("mariadb://u@h/db", True),
        ("sqlite:///x.db", True),
        ("mssql+pyodbc://u@h/db", True),
        ("duckdb:///x.duckdb", False),  # a target only
        ("https://api.example.com/v1", False),
        ("s3://bucket/key.csv", False),
    ],
)
def test_database_urls_are_the_dialects_schemes(url: str, database: bool) -> None:
    assert is_database_url(url) is database


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("40001", True),  # serialization failure
        ("40P01", True),  # deadlock
        ("08006", True),  # connection failure
        ("57P01", True),  # admin shutdown
        ("23505", False),  # unique violation
        ("42P01", False),  # undefined table
        (1213, True),  # deadlock
        (1205, True),  # lock wait timeout
        (2013, True),  # lost connection
        (1040, True),  # too many connections
        (1062, False),  # duplicate entry
        (1146, False),  # no such table
    ],
)
def test_one_transient_classification_for_sources_and_loaders(
    code: str | int, transient: bool
) -> None:
    by_dialect = POSTGRES if isinstance(code, str) else MYSQL
    assert by_dialect.is_transient(code) is transient
    assert dialects.is_transient_code(code) is transient
    assert dberrors.diagnose(code, "").transient is transient


def test_conflicts_are_the_dialects_deadlocks_and_serialization_failures() -> None:
    assert all(dberrors.is_conflict(c) for c in ("40001", "40P01", 1213, 1205))
    assert not dberrors.is_conflict("08006")
    assert not dberrors.is_conflict(None)


def test_identifier_limits() -> None:
    assert POSTGRES.identifier_fits("x" * 63)
    assert not POSTGRES.identifier_fits("x" * 64)
    assert not POSTGRES.identifier_fits("é" * 32)  # 64 bytes
    assert MYSQL.identifier_fits("é" * 64)  # 64 characters
    assert not MYSQL.identifier_fits("x" * 65)
    assert SQLITE.identifier_fits("x" * 500)
    assert DUCKDB.identifier_fits("x" * 500)


def test_the_rejects_table_name_follows_the_targets_limit() -> None:
    assert rejects_table("x" * 54, POSTGRES) == "x" * 54 + "__rejects"
    with pytest.raises(LoadError, match="63 bytes at most"):
        rejects_table("x" * 55, POSTGRES)
    assert rejects_table("x" * 55, MYSQL) == "x" * 55 + "__rejects"
    with pytest.raises(LoadError, match="64 characters at most"):
        rejects_table("x" * 56, MYSQL)
    assert rejects_table("x" * 200, SQLITE) == "x" * 200 + "__rejects"


def test_capabilities() -> None:
    assert [d.transactional_ddl for d in (POSTGRES, MYSQL, SQLITE, DUCKDB)] == [
        True,
        False,
        True,
        True,
    ]
    assert not SQLITE.schemas and POSTGRES.schemas and DUCKDB.schemas
    assert MYSQL.named_locks and not POSTGRES.named_locks
    assert SQLITE.file_database and DUCKDB.file_database and not POSTGRES.file_database
    assert POSTGRES.sqlglot == "postgres" and MYSQL.sqlglot == "mysql"
    assert MYSQL.read_only == ("SET time_zone = '+00:00'", "START TRANSACTION READ ONLY")
    assert DUCKDB.read_only is None


def test_each_dialect_names_a_loader_that_imports() -> None:
    from connectors.loaders.duckdb import DuckDBLoader
    from connectors.loaders.postgres import PostgresLoader
    from connectors.loaders.sql import SqlLoader

    assert isinstance(POSTGRES.loader(sa.make_url("postgresql://u@h/db")), PostgresLoader)
    assert isinstance(SQLITE.loader(sa.make_url("sqlite:///x.db?timeout=5")), SqlLoader)
    assert DUCKDB.loader_path.endswith(DuckDBLoader.__name__)


SQLITE_URLS = [
    "sqlite://",
    "sqlite:///",
    "sqlite:///relative/x.db",
    "sqlite:////absolute/x.db",
    "sqlite+pysqlite:///x.db",
    "sqlite:///dir%20with%20spaces/a%23b.db",
    "sqlite:///dir with spaces/a@b.db",
    "sqlite:///C:/data/x.db",
    "sqlite:///x.db?mode=ro&uri=true",
    "sqlite:///x.db?timeout=30",
    "sqlite:///x.db?",
    "duckdb:////absolute/lake.duckdb?threads=2",
]


@pytest.mark.parametrize("url", SQLITE_URLS)
def test_a_file_url_reads_as_sqlalchemy_reads_it(url: str) -> None:
    parsed = sa.make_url(url)
    assert file_parts(url) == (parsed.database, dict(parsed.query))
    shown = file_url(parsed.get_backend_name(), parsed.database, dict(parsed.query))
    assert shown == parsed.set(drivername=parsed.get_backend_name()).render_as_string(False)
    assert sa.make_url(shown).database == parsed.database


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite://", ""),
        ("sqlite:///relative/x.db", "relative/x.db"),
        ("sqlite:////absolute/x.db", "/absolute/x.db"),
        ("sqlite+pysqlite:///x.db", "x.db"),
        ("sqlite:///x.db?mode=ro&uri=true", None),  # options: SQLAlchemy's pysqlite honours them
        ("sqlite:///x.db?timeout=30", None),
        ("sqlite://localhost/x.db", None),  # a host: SQLAlchemy reads the URL
        ("sqlite+aiosqlite:///x.db", None),  # another driver
    ],
)
def test_sqlite_serves_a_url_natively_only_without_options(url: str, path: str | None) -> None:
    assert native_path(url) == path
    assert native_path(sa.make_url(url)) == path
    assert (SQLITE.native(url) is None) == (path is None)
    assert SQLITE.shown(url) == sa.make_url(url).render_as_string(hide_password=True) or (
        url.startswith("sqlite+pysqlite") and SQLITE.shown(url) == "sqlite:///x.db"
    )


def test_sqlite_declares_the_types_sqlalchemy_declared() -> None:
    from sqlalchemy.dialects import sqlite

    names = ["string", "integer", "bigint", "float", "boolean", "date", "timestamp"]
    for ctype in [*map(ColumnType.parse, [*names, "timestamptz", "json", "decimal(12,2)"])]:
        for key in (False, True):
            compiled = SQLITE.ddl_type(ctype, key).compile(dialect=sqlite.dialect())
            assert SQLITE.column_type(ctype, key) == compiled, (ctype, key)


@pytest.mark.parametrize(
    "declared",
    [
        "INT", "INTEGER", "BIGINT", "TINYINT", "BOOLEAN", "TEXT", "VARCHAR(255)", "CLOB",
        "DATE", "DATETIME", "TIMESTAMP", "DOUBLE", "REAL", "FLOAT", "DOUBLE PRECISION",
        "NUMERIC(12, 2)", "DECIMAL", "JSON", "BLOB", "", "TIME", "MONEY", "int",
    ],
)  # fmt: skip
def test_sqlite_reads_a_declared_type_as_sqlalchemy_reflects_it(declared: str) -> None:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE TABLE t (c {declared})")
        (column,) = sa.inspect(conn).get_columns("t")
    assert family(declared) == sql_merge.family(column["type"])


def test_the_dialects_connections_and_errors_import_without_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import connectors.dialects, connectors.dberrors, connectors.connections\n"
        "import connectors.loaders, connectors.loaders.sqlite, connectors.plan\n"
        "assert not [m for m in sys.modules if m.startswith('sqlalchemy')], 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
