"""Time the PostgreSQL loader against psql's \\copy on 1M rows x 10 columns.

Run: .venv/bin/python bench/bench_loaders.py  (needs the local PostgreSQL server)
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from connectors.loaders.base import LoadJob
from connectors.loaders.postgres import PostgresLoader
from connectors.runtime import Rejects, RunInfo, StreamStats
from connectors.spec.models import Load

URL = sa.make_url("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
ROWS = 1_000_000
DDL = (
    "id bigint PRIMARY KEY, customer bigint, name text, country text, status text, "
    "amount double precision, price numeric(12,2), created_at timestamptz, day date, paid boolean"
)


def data(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(ROWS, dtype=np.int64)
    return pa.table(
        {
            "id": ids,
            "customer": rng.integers(0, 100_000, ROWS),
            "name": pa.array([f"customer {i}" for i in ids]),
            "country": pa.array(rng.choice(["FR", "DE", "US", "JP"], ROWS)),
            "status": pa.array(rng.choice(["paid", "open", "void"], ROWS)),
            "amount": rng.random(ROWS) * 1000,
            "price": pa.array(np.round(rng.random(ROWS) * 1000, 2)).cast(pa.decimal128(12, 2)),
            "created_at": pa.array(
                ids * 1_000_000 + 1_700_000_000_000_000, pa.timestamp("us", tz="UTC")
            ),
            "day": pa.array((ids % 3000).astype(np.int32), pa.date32()),
            "paid": pa.array(ids % 2 == 0),
        }
    )


def sql(statement: str) -> None:
    subprocess.run(
        ["psql", "-qh", "127.0.0.1", "-U", "postgres", "test", "-c", statement], check=True
    )


def timed(label: str, action, *args) -> float:
    start = time.perf_counter()
    result = action(*args)
    seconds = time.perf_counter() - start
    print(f"{label:<40} {seconds:6.2f} s  {result if result is not None else ''}")
    return seconds


def job(table: pa.Table, mode: str, run_id: str) -> LoadJob:
    run = RunInfo(run_id, "bench", "orders", datetime.now(UTC))
    stats = StreamStats(rows_read=table.num_rows)
    load = Load(table=f"bench.orders_{mode}", mode=mode, keys=["id"] if mode == "upsert" else [])
    return LoadJob(run, load, iter(table.to_batches(131_072)), Rejects(run, stats), stats)


def main() -> None:
    first, second = data(1), data(2)
    sql("DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench")
    with tempfile.NamedTemporaryFile(suffix=".csv") as csv:
        pacsv.write_csv(first, csv.name)
        for name in ("orders_copy", "orders_append", "orders_upsert"):
            sql(f"CREATE TABLE bench.{name} ({DDL})")
        timed(
            "psql \\copy (CSV)",
            lambda: sql(f"\\copy bench.orders_copy FROM '{csv.name}' CSV HEADER"),
        )
    loader = PostgresLoader(URL)
    sql("TRUNCATE bench.orders_append, bench.orders_upsert")
    timed("append", loader.load, job(first, "append", "a"))
    timed("upsert into empty", loader.load, job(first, "upsert", "u1"))
    timed("upsert, all rows changed", loader.load, job(second, "upsert", "u2"))
    timed("upsert, no row changed", loader.load, job(second, "upsert", "u3"))
    sql("DROP SCHEMA bench CASCADE")


if __name__ == "__main__":
    main()
