"""Profiling benchmark: a large generated CSV and a large PostgreSQL table, sampled.

`dagsmith profile` must finish in under 10 s on a 5 GB CSV or a 50-million-row table,
because it samples (head, spread and tail byte ranges for files; TABLESAMPLE for
PostgreSQL) instead of scanning. This script builds both sources once (kept between runs
under --dir and in schema dagsmith_bench_profile), then times the profile of each.

    python bench/profile.py                          # 1 GB CSV, 10,000,000-row table
    python bench/profile.py --csv-gb 5 --pg-rows 50000000   # the issue's sizes (slow to build)
    python bench/profile.py --no-pg                  # the CSV only
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from connectors.profiling.resolve import Request, profile_request

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
SCHEMA = "dagsmith_bench_profile"
CHUNK_ROWS = 1_000_000
TARGET_SECONDS = 10.0


def make_csv(path: Path, gigabytes: float) -> None:
    """Write about `gigabytes` of orders-like CSV, a million rows at a time."""
    target, start = int(gigabytes * (1 << 30)), 0
    notes = pa.array(["plain", 'say "hi"', "a, b", "line\nbreak", "café ☕", "", "Ωmega", "x"])
    with path.open("wb") as out:
        while out.tell() < target:
            ids = np.arange(start, start + CHUNK_ROWS, dtype=np.int64)
            table = pa.table(
                {
                    "order_id": ids,
                    "customer_id": 1 + (ids * 7919) % 99_999,
                    "created_at": pa.array(ids * 1_000_000 + 1_700_000_000_000_000).cast(
                        pa.timestamp("us", tz="UTC")
                    ),
                    "amount": np.round((ids % 100_000) / 100, 2),
                    "zip": pa.array([f"{z:05d}" for z in (ids % 99_999).tolist()]),
                    "note": notes.take(pa.array(ids % 8)),
                    "email": pa.array([f"u{i % 5000}@example.com" for i in ids.tolist()]),
                }
            )
            options = pacsv.WriteOptions(include_header=start == 0)
            pacsv.write_csv(table, out, options)
            start += CHUNK_ROWS


def make_table(rows: int) -> None:
    """A table of `rows` rows built by the server (kept if it already has them)."""
    engine = sa.create_engine(PG)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        have = conn.execute(
            sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
            {"t": f"{SCHEMA}.orders"},
        ).scalar()
        if have is not None and abs(have - rows) < rows // 100:
            return
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {SCHEMA}.orders"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {SCHEMA}.orders AS SELECT g AS id, 1 + (g * 7919) % 99999 AS "
                "customer_id, timestamptz '2023-11-14 22:13:20+00' + g * interval '1 second' AS "
                "updated_at, (g % 100000)::numeric(12,2) / 100 AS amount, "
                "'u' || (g % 5000) || '@example.com' AS email "
                f"FROM generate_series(1::bigint, {rows}) AS g"
            )
        )
        conn.execute(sa.text(f"ALTER TABLE {SCHEMA}.orders ADD PRIMARY KEY (id)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM ANALYZE {SCHEMA}.orders"))
    engine.dispose()


def timed(label: str, request: Request) -> None:
    """Profile a source and print its time against the target."""
    started = time.perf_counter()
    found = profile_request(
        request, project_dir=Path.cwd(), rows=50_000, full=False, with_quality=True
    )
    seconds = time.perf_counter() - started
    verdict = "ok" if seconds < TARGET_SECONDS else "SLOWER THAN TARGET"
    print(
        f"{label}: {seconds:.2f} s ({verdict}); rows {found.rows.value:,} "
        f"({'estimated' if found.rows.estimated else 'exact'}), sampled {found.sampled_rows:,} "
        f"by {found.method}; keys {found.keys[:1]}, cursors {found.cursors[:1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-gb", type=float, default=1.0, help="CSV size in GB (default 1)")
    parser.add_argument("--pg-rows", type=int, default=10_000_000, help="table rows")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "dagsmith-bench")
    parser.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL table")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / f"orders_{args.csv_gb:g}gb.csv"
    if not path.exists():
        started = time.perf_counter()
        make_csv(path, args.csv_gb)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    print(f"CSV {path.stat().st_size / (1 << 30):.2f} GB")
    timed("csv profile", Request(str(path)))
    if not args.no_pg:
        started = time.perf_counter()
        make_table(args.pg_rows)
        print(f"table {SCHEMA}.orders ready in {time.perf_counter() - started:.1f} s")
        os.environ["AIRFLOW_CONN_BENCH"] = PG
        timed("postgres profile", Request(None, connection="bench", table=f"{SCHEMA}.orders"))


if __name__ == "__main__":
    main()
