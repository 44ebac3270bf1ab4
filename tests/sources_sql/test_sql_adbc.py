"""PostgreSQL's ADBC fast path: what the SQLAlchemy path reads, on the same terms, faster."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import SourceError, SourceUnavailable, SpecError
from connectors.sources import sql_adbc
from connectors.sources.sql import column_types
from connectors.spec.sql import SqlSource
from tests.conftest import Database

from .conftest import make_ctx, run, use
from .test_sql_safety import REFUSED

TEXT = "Grüße, 東京 🎉 'quoted' \"double\", a\nnewline"
EVERY_TYPE = """CREATE TYPE {s}.mood AS ENUM ('ok', 'sad');
CREATE TABLE {t} (i int, bi bigint, si smallint, n numeric(12,2), big numeric(45,1),
    raw numeric, f double precision, r real, b boolean, d date, ts timestamp(3),
    tz timestamptz, j jsonb, js json, tx text, v varchar(40), c char(5), u uuid, by bytea,
    tm time, ip inet, m money, o oid, ia int[], ta text[], e {s}.mood, iv interval);
INSERT INTO {t} VALUES (1, 9007199254740993, -7, -1234.50,
    12345678901234567890123456789012345678901234.5, 3.14159, 1.5e300, 0.1, true,
    '2024-02-29', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05.123456+02',
    '{{"a": [1, "é"], "b": null}}', '"x"', '{text}', 'ok', 'ab', gen_random_uuid(),
    '\\x00ff', '12:34:56.5', '10.0.0.1/8', 12.34, 4000000000, '{{1,NULL,3}}',
    '{{"a,b", "é"}}', 'sad', '1 day 02:00:00');
INSERT INTO {t} DEFAULT VALUES"""
PYTHON_TEXT = {"tm", "iv"}
"""Differ in text only: psycopg2 turns time and interval into Python objects, whose str()
is not PostgreSQL's ('12:34:56.500000', '1 day, 2:00:00'); the fast path keeps the server's."""


@pytest.fixture
def adbc_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SqlSource]]:
    """The sources the ADBC path read, to prove the fast path is the one that ran."""
    seen: list[SqlSource] = []
    real = sql_adbc.read

    def spy(spec: SqlSource, *args: Any) -> Iterator[pa.RecordBatch]:
        seen.append(spec)
        return real(spec, *args)

    monkeypatch.setattr(sql_adbc, "read", spy)
    yield seen


def _both_paths(
    reader: Any, monkeypatch: pytest.MonkeyPatch, db: Database, **fields: Any
) -> tuple[pa.Table, pa.Table]:
    fast = pa.Table.from_batches(reader(db, **fields))
    with monkeypatch.context() as patched:
        patched.setattr(sql_adbc, "handles", lambda url: False)
        slow = pa.Table.from_batches(reader(db, **fields))
    return fast, slow


@pytest.mark.parametrize("by", ["table", "query"])
def test_every_type_reads_the_same_whichever_path_runs(
    postgres: Database, reader: Any, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    t = postgres.table("types")
    run(postgres, EVERY_TYPE.format(s=postgres.schema, t=t, text=TEXT.replace("'", "''")))
    fields = {"table": t} if by == "table" else {"query": f"SELECT * FROM {t} ORDER BY i"}
    fast, slow = _both_paths(reader, monkeypatch, postgres, **fields)
    assert fast.schema == slow.schema
    assert fast.schema.field("n").type == pa.decimal128(12, 2)
    assert fast.schema.field("o").type == pa.int64()
    same = [n for n in fast.column_names if n not in PYTHON_TEXT]
    assert fast.select(same).to_pylist() == slow.select(same).to_pylist()
    assert fast.column("tm").to_pylist() == ["12:34:56.5", None]
    assert fast.column("iv").to_pylist() == ["1 day 02:00:00", None]
    assert fast.to_pylist()[0]["r"] == 0.1
    assert fast.to_pylist()[0]["ia"] == "[1, null, 3]"


def test_column_types_agree_with_what_the_fast_path_reads(
    postgres: Database, reader: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    t = postgres.table("types")
    run(postgres, EVERY_TYPE.format(s=postgres.schema, t=t, text="x"))
    spec = SqlSource(kind="sql", connection="src", table=t)
    [first, *_] = reader(postgres, table=t)
    use(monkeypatch, postgres.url)
    declared = column_types(spec, make_ctx(tmp_path))
    assert {n: c.arrow() for n, c in declared.items()} == dict(
        zip(first.schema.names, first.schema.types, strict=True)
    )


def test_large_results_stream_in_bounded_batches(
    postgres: Database, reader: Any, adbc_reads: list[SqlSource]
) -> None:
    t = postgres.table("big")
    run(
        postgres,
        f"""CREATE TABLE {t} AS SELECT g AS id, repeat(md5(g::text), 2) AS label
        FROM generate_series(1, 400000) g""",
    )
    batches = reader(postgres, batch_rows=50_000, query=f"SELECT * FROM {t} ORDER BY id")
    assert adbc_reads
    assert max(b.num_rows for b in batches) <= 50_000
    assert sum(b.num_rows for b in batches) == 400_000
    ids = pa.chunked_array([b.column("id") for b in batches])
    assert ids.to_pylist() == list(range(1, 400_001))


def test_an_empty_result_gives_one_empty_batch_with_its_types(
    postgres: Database, reader: Any, adbc_reads: list[SqlSource]
) -> None:
    t = postgres.table("items")
    run(postgres, f"CREATE TABLE {t} (id bigint, amount numeric(10,2), u uuid)")
    [batch] = reader(postgres, table=t, columns=["u", "amount"])
    assert adbc_reads
    assert batch.num_rows == 0
    assert batch.schema == pa.schema([("u", pa.string()), ("amount", pa.decimal128(10, 2))])


@pytest.mark.parametrize(("query", "problem"), REFUSED)
def test_refused_queries_are_refused_on_the_fast_path(
    postgres: Database, reader: Any, adbc_reads: list[SqlSource], query: str, problem: str
) -> None:
    t = postgres.table("victim")
    run(postgres, f"CREATE TABLE {t} (id integer);\nINSERT INTO {t} VALUES (1)")
    with pytest.raises(SpecError, match="refused") as caught:
        reader(postgres, query=query.format(t=t))
    assert adbc_reads
    assert problem in str(caught.value)
    assert postgres.rows(t) == [(1,)]


def test_the_read_only_transaction_blocks_writes(
    postgres: Database, reader: Any, adbc_reads: list[SqlSource]
) -> None:
    seq = postgres.table("seq")
    run(postgres, f"CREATE SEQUENCE {seq}")
    with pytest.raises(SourceError, match="read-only transaction") as caught:
        reader(postgres, query=f"SELECT nextval('{seq}') FROM generate_series(1, 3)")
    assert adbc_reads
    assert not isinstance(caught.value, SourceUnavailable)
    assert postgres.rows(seq)[0][2] is False  # is_called: nextval never ran


def test_an_error_while_streaming_is_a_source_error(
    postgres: Database, reader: Any, adbc_reads: list[SqlSource]
) -> None:
    query = "SELECT g, 1 / (g - 300000) AS boom FROM generate_series(1, 400000) g"
    with pytest.raises(SourceError, match="division by zero") as caught:
        reader(postgres, batch_rows=10_000, query=query)
    assert adbc_reads
    assert "[libpq]" not in str(caught.value)


@pytest.fixture
def role_with_password(postgres: Database) -> Iterator[tuple[str, str]]:
    """A login role with a password (the server trusts loopback, so any password works)."""
    role, secret = f"r_{uuid.uuid4().hex[:10]}", f"S3cret-{uuid.uuid4().hex[:8]}"
    with postgres.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} WITH LOGIN PASSWORD '{secret}'"))
    yield role, secret
    with postgres.engine.begin() as conn:
        conn.execute(sa.text(f"DROP ROLE {role}"))


@pytest.mark.parametrize(
    "fields",
    [{"table": "no_such_table"}, {"query": "SELECT nope FROM no_such_table"}],
)
def test_errors_never_show_the_password(
    postgres: Database,
    reader: Any,
    adbc_reads: list[SqlSource],
    role_with_password: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
    fields: dict[str, str],
) -> None:
    role, secret = role_with_password
    url = sa.make_url(f"postgresql://{role}:{secret}@127.0.0.1/test")
    with pytest.raises(SourceError, match="no_such_table") as caught:
        reader(Database(url, None, postgres.engine), **fields)
    assert adbc_reads
    assert not isinstance(caught.value, SourceUnavailable)
    shown = [str(caught.value), str(caught.value.__cause__), caplog.text]
    assert not [text for text in shown if secret in text]


def test_a_closed_port_is_transient_on_the_fast_path(
    reader: Any, adbc_reads: list[SqlSource]
) -> None:
    url = sa.make_url("postgresql+psycopg2://someone:Secret-99@127.0.0.1:1/test")
    with pytest.raises(SourceUnavailable) as caught:
        reader(Database(url, None, sa.create_engine(url)), table="t")
    assert adbc_reads
    assert "Secret-99" not in str(caught.value)
    assert "Secret-99" not in str(caught.value.__cause__)


@pytest.mark.parametrize(
    ("url", "handled"),
    [
        ("postgresql://u@h/db", True),
        ("postgresql+psycopg://u@h/db", True),
        ("postgresql+pg8000://u@h/db", False),
        ("mysql+pymysql://u@h/db", False),
        ("sqlite:///x.db", False),
    ],
)
def test_the_fast_path_takes_libpq_urls_only(url: str, handled: bool) -> None:
    assert sql_adbc.handles(sa.make_url(url)) is handled


def test_the_libpq_uri_keeps_the_users_options() -> None:
    url = sa.make_url("postgresql+psycopg2://u:p%40ss@h:5433/db?sslmode=require&connect_timeout=3")
    uri = sql_adbc.libpq_uri(url, connect_timeout=15)
    assert uri.startswith("postgresql://u:p%40ss@h:5433/db?")
    assert "sslmode=require" in uri
    assert "connect_timeout=3" in uri
    assert "connect_timeout=15" not in uri


def test_only_a_tables_not_null_is_read_from_the_catalog(postgres: Database, reader: Any) -> None:
    # A view has no NOT NULL of its own; a foreign table's would not be enforced.
    t, v = postgres.table("people"), postgres.table("people_v")
    run(postgres, f"CREATE TABLE {t} (id integer NOT NULL, note text)")
    run(postgres, f"CREATE VIEW {v} AS SELECT * FROM {t}")
    assert [f.nullable for f in reader(postgres, table=t)[0].schema] == [False, True]
    assert [f.nullable for f in reader(postgres, table=v)[0].schema] == [True, True]
