"""Append benchmark: the embedded DuckDB target against PostgreSQL, measured in one run.

Uses bench/load.py's CSV (N rows x 10 columns: quotes, newlines, non-ASCII, a 40%-null
column, timestamps, decimals) and times, each as its own process:
  psql \\copy into PostgreSQL (the reference), `dagsmith run` append into PostgreSQL,
  DuckDB's own `COPY ... FROM csv` into a DuckDB file, and `dagsmith run` append into the
  embedded DuckDB (no target in the spec). Prints seconds, rows/s and ratios to \\copy.

    python bench/duckdb_append.py                 # 1,000,000 rows
    python bench/duckdb_append.py --rows 200000   # a quick look
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from load import DDL, PG, TYPES, Timing, child_env, generate, timed

SCHEMA = "dagsmith_bench_duckdb"
DUCK_DDL = """CREATE SCHEMA {schema}; CREATE TABLE {schema}.rows (id BIGINT, customer_id BIGINT,
name VARCHAR, created_at TIMESTAMPTZ, amount DECIMAL(12,2), active BOOLEAN, note VARCHAR,
score DOUBLE, day DATE, category VARCHAR)"""


def spec(path: Path, csv: Path, target: str | None) -> Path:
    """An append spec into `target` (None: the embedded DuckDB)."""
    types = "\n".join(f"        {k}: '{v}'" for k, v in TYPES.items())
    path.write_text(
        (f"target: {target}\n" if target else "")
        + f"""pipeline: bench_append
streams:
  - name: rows
    source: {{kind: csv, path: {csv}}}
    transform:
      strings: null
      types:
{types}
    load: {{table: {SCHEMA}.rows, mode: append}}
"""
    )
    return path


def duckdb_copy(database: str, csv: str) -> None:
    """DuckDB's own CSV loader, the fastest way into a DuckDB file: the DuckDB reference."""
    import duckdb

    with duckdb.connect(database) as con:
        con.execute(DUCK_DDL.format(schema=SCHEMA))
        con.execute(f"COPY {SCHEMA}.rows FROM '{csv}' (HEADER)")


def measure(rows: int, work: Path) -> list[Timing]:
    os.chdir(work)  # the project folder of every `dagsmith run`: the embedded file lands here
    csv = work / f"rows_{rows}.csv"
    generate(csv, rows, seed=1)
    print(f"\n{rows:,} rows: {csv.stat().st_size / 1e6:.0f} MB of CSV", flush=True)
    env = child_env()
    dagsmith = [str(Path(sys.executable).with_name("dagsmith")), "run", "--json"]
    warm = work / "warm.csv"
    generate(warm, 10, seed=2)
    timed("warm-up", 10, [*dagsmith, str(spec(work / "w.yaml", warm, None))], env)
    shutil.rmtree(work / ".dagsmith")
    copy = f"\\copy {SCHEMA}.copy_ref FROM '{csv}' WITH (FORMAT csv, HEADER true)"
    duck = [sys.executable, __file__, "--duckdb-copy", str(work / "ref.duckdb"), str(csv)]
    into_pg, into_duckdb = spec(work / "p.yaml", csv, "bench"), spec(work / "d.yaml", csv, None)
    return [
        timed("psql \\copy (PostgreSQL)", rows, ["psql", PG, "-q", "-c", copy]),
        timed("dagsmith append PostgreSQL", rows, [*dagsmith, str(into_pg)], env),
        timed("DuckDB COPY FROM csv", rows, duck, env),
        timed("dagsmith append DuckDB", rows, [*dagsmith, str(into_duckdb)], env),
    ]


def report(results: list[Timing]) -> None:
    reference = results[0]
    by_label = {r.label: r for r in results}
    header = ("", "seconds", "rows/s", "x \\copy", "peak RSS", "in-process s")
    print("{:30} {:>8} {:>11} {:>8} {:>9} {:>12}".format(*header))
    for r in results:
        inner = f"{r.stream_seconds:.2f}" if r.stream_seconds is not None else ""
        print(
            f"{r.label:30} {r.seconds:8.2f} {r.rows / r.seconds:11,.0f} "
            f"{r.seconds / reference.seconds:8.2f} {r.peak_rss_mb or 0:7.0f} MB {inner:>12}"
        )
    pg, duck = by_label["dagsmith append PostgreSQL"], by_label["dagsmith append DuckDB"]
    ref = by_label["DuckDB COPY FROM csv"]
    print(f"dagsmith DuckDB / dagsmith PostgreSQL: {duck.seconds / pg.seconds:.2f}x wall time")
    print(f"dagsmith DuckDB / DuckDB's own COPY:   {duck.seconds / ref.seconds:.2f}x wall time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000])
    parser.add_argument("--duckdb-copy", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.duckdb_copy:
        duckdb_copy(*args.duckdb_copy)
        return
    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        conn.execute(sa.text(DDL.format(table=f"{SCHEMA}.copy_ref")))
    try:
        for rows in args.rows:
            work = Path(tempfile.mkdtemp(prefix="dagsmith-bench-duckdb-"))
            try:
                report(measure(rows, work))
            finally:
                shutil.rmtree(work)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


if __name__ == "__main__":
    main()
