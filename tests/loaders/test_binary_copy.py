"""Binary COPY (pgpq's encoding, psycopg2's COPY stream) writes each type's edge values
exactly: into a table of every type the wire carries, straight (append) and through the
staging tables of an upsert; and a value the server refuses fails the load whole."""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from connectors.errors import LoadError
from connectors.loaders.postgres import PostgresLoader
from tests.conftest import Database
from tests.loaders.conftest import make_job

UTC = dt.UTC
SQL_TYPES = {
    "small": "smallint",
    "int": "integer",
    "real": "real",
    "double": "double precision",
    "money": "numeric(12,2)",
    "wide": "numeric(38,10)",
    "free": "numeric",
    "ok": "boolean",
    "day": "date",
    "local": "timestamp",
    "at": "timestamptz",
    "note": "text",
    "code": "varchar(20)",
    "doc": "jsonb",
    "ref": "uuid",
    "huge": "numeric(50,4)",
}
ODD = ["", 'say "hi"', "back\\slash \\N", "tab\tcr\r\nlf", "naïve café ☕ Ω 𝄞", ",;|'"]
# Each row: small, int, real, double, money, wide, free, ok, day, local, at, note, code, doc,
# ref, huge
ROWS: list[tuple[Any, ...]] = [
    (-(2**15), -(2**31), -0.0, -math.inf, Decimal("-9999999999.99"),
     Decimal("-1234567890123456789012345678.0123456789"), Decimal("-0.0000000001"), False,
     dt.date(1, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
     dt.datetime(1900, 1, 1, tzinfo=UTC), ODD[0], "x", '{"a": [1, null]}',
     "00000000-0000-0000-0000-000000000000", Decimal("-1234567890123456789012345678901234.5678")),
    (2**15 - 1, 2**31 - 1, 3.25, math.inf, Decimal("0.00"), Decimal("0E-10"),
     Decimal("123456789012345678901234567.5"), True, dt.date(1999, 12, 31),
     dt.datetime(2000, 1, 1), dt.datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
     ODD[1], ODD[5], '"just a string"', "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", Decimal("0")),
    (0, 0, 16777216.0, 5e-324, Decimal("0.01"), Decimal("0.0000000001"), Decimal("0"), None,
     dt.date(2000, 1, 1), dt.datetime(2038, 1, 19, 3, 14, 8),
     dt.datetime(2000, 1, 1, tzinfo=UTC), ODD[2], None, "[]", None, None),
    (None, None, None, -1.0, Decimal("9999999999.99"),
     Decimal("9999999999999999999999999999.9999999999"), None, True, dt.date(9999, 12, 31),
     None, dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), ODD[3], "", None,
     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12", Decimal("0.0001")),
    (1, 1, None, None, None, None, None, None, None, None, None, ODD[4], None, "{}", None, None),
]  # fmt: skip
NAMES = ["small", "int", "real", "double", "money", "wide", "free", "ok", "day", "local", "at"]
NAMES += ["note", "code", "doc", "ref", "huge"]
TYPES: list[pa.DataType] = [pa.int16(), pa.int32(), pa.float32(), pa.float64()]
TYPES += [pa.decimal128(12, 2), pa.decimal128(38, 10), pa.decimal128(38, 10), pa.bool_()]
TYPES += [pa.date32()]
TYPES += [pa.timestamp("us"), pa.timestamp("us", tz="UTC"), pa.string(), pa.string()]
TYPES += [pa.string(), pa.string(), pa.decimal128(38, 4)]


CAST = ("free", "doc", "ref", "huge")
"""Columns staged as text and cast by the server (no binary wire type of their own, or,
for `numeric(50,4)`, one too narrow: decimal128 holds 38 digits)."""


def _table(rows: list[tuple[Any, ...]], names: list[str]) -> pa.Table:
    columns = {"id": pa.array(range(len(rows)), pa.int64())}
    for i, (name, kind) in enumerate(zip(NAMES, TYPES, strict=True)):
        if name in names:
            columns[name] = pa.array([row[i] for row in rows], kind)
    return pa.table(columns)


def _expected(row: tuple[Any, ...], names: list[str]) -> tuple[Any, ...]:
    """What psycopg2 reads back: jsonb parsed, uuid as lower-case text."""
    values = dict(zip(NAMES, row, strict=True))
    values["doc"] = None if values["doc"] is None else json.loads(values["doc"])
    values["ref"] = None if values["ref"] is None else str(uuid.UUID(values["ref"]))
    return tuple(values[n] for n in names)


def _create(db: Database, table: str, names: list[str]) -> None:
    columns = ", ".join(["id bigint PRIMARY KEY", *(f"{n} {SQL_TYPES[n]}" for n in names)])
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} ({columns})")


def _read(db: Database, table: str) -> list[tuple[Any, ...]]:
    return [
        tuple(str(v) if isinstance(v, uuid.UUID) else v for v in r) for r in db.rows(table, "id")
    ]


def _same(got: tuple[Any, ...], want: tuple[Any, ...]) -> bool:
    """Equal, with -0.0 told from 0.0 (its sign is what binary COPY could lose)."""
    for a, b in zip(got, want, strict=True):
        if isinstance(b, float) and (a != b or math.copysign(1, a) != math.copysign(1, b)):
            return False
        if not isinstance(b, float) and a != b:
            return False
    return True


@pytest.mark.parametrize(
    ("mode", "cast"),
    [("append", False), ("append", True), ("upsert", True)],
    ids=["COPY into the target", "staged, then cast", "staged in chunks, merged"],
)
def test_edge_values_of_every_wire_type_arrive_exactly(
    postgres: Database, mode: str, cast: bool
) -> None:
    table, names = postgres.table("typed"), [n for n in NAMES if cast or n not in CAST]
    _create(postgres, table, names)
    keys = ["id"] if mode == "upsert" else None
    job = make_job(table, _table(ROWS, names), mode=mode, keys=keys, batch_rows=2)
    assert PostgresLoader(postgres.url).load(job).rows_loaded == len(ROWS)
    got = _read(postgres, table)
    for number, (row, want) in enumerate(zip(got, ROWS, strict=True)):
        assert row[0] == number
        assert _same(row[1:], _expected(want, names)), f"row {number}: {row[1:]}"


def test_an_upsert_of_the_same_edge_values_finds_every_row_unchanged(postgres: Database) -> None:
    """Staged values compare equal to the stored ones: nothing is rewritten."""
    table = postgres.table("typed")
    _create(postgres, table, NAMES)
    loader = PostgresLoader(postgres.url)
    loader.load(make_job(table, _table(ROWS, NAMES), mode="upsert", keys=["id"]))
    again = make_job(table, _table(ROWS, NAMES), mode="upsert", keys=["id"], run_id="r2")
    result = loader.load(again)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, len(ROWS))


def test_many_small_batches_are_sent_whole(postgres: Database) -> None:
    """pgpq holds small batches' bytes back until it has enough: none may be lost."""
    table = postgres.table("many")
    rows = 30_001
    data = {"id": list(range(rows)), "note": [ODD[i % len(ODD)] for i in range(rows)]}
    PostgresLoader(postgres.url).load(make_job(table, data, batch_rows=7))
    with postgres.engine.connect() as conn:
        sql = f"SELECT count(*), sum(id), sum(octet_length(note)) FROM {table}"
        count, total, text_bytes = conn.exec_driver_sql(sql).one()
    assert (count, total) == (rows, rows * (rows - 1) // 2)
    assert text_bytes == sum(len(data["note"][i].encode()) for i in range(rows))


def test_a_value_the_server_refuses_fails_the_load_and_writes_nothing(
    postgres: Database,
) -> None:
    """PostgreSQL's text cannot hold a NUL character: the COPY fails, the table stays empty."""
    table = postgres.table("nul")
    with postgres.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (id bigint, note text)")
    data = {"id": [1, 2, 3], "note": ["fine", "bad\x00byte", "fine"]}
    with pytest.raises(LoadError, match=r"0x00") as error:
        PostgresLoader(postgres.url).load(make_job(table, data, batch_rows=1))
    assert error.value.code == "22021"
    assert postgres.rows(table) == []
