"""SQL copy benchmark: PostgreSQL table -> PostgreSQL table, dagsmith against a psql pipe.

Builds a source table of N rows x 10 columns (text with quotes, commas, newlines and
non-ASCII, a 40%-null column, timestamptz, numeric(12,2)...) in the local PostgreSQL, then
times, in one run:
  psql "\\copy (SELECT ...) TO STDOUT" | psql "\\copy ... FROM STDIN" (the reference), and
  `dagsmith run` of a `kind: sql` source appended into an empty table,
best of --repeat runs each, and checks that both targets hold the same rows. Prints
seconds, rows/s, the ratio to the pipe and each command's peak RSS (from wait4). Then,
unless --no-memory, it drains growing prefixes of a larger table through the sql source,
a subprocess each: a peak RSS that does not grow with the rows shows that it streams.

    python bench/sql_copy.py                     # 1,000,000 rows; memory at 1M and 3M
    python bench/sql_copy.py --rows 200000 --no-memory
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PG = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "dagsmith_bench_sql"
COLUMNS = """id bigint PRIMARY KEY, customer_id bigint, name text, created_at timestamptz,
amount numeric(12,2), active boolean, note text, score double precision, day date,
category text"""
# Deterministic data made by the server, so building 1M rows takes a second, not a minute.
FILL = """INSERT INTO {table}
SELECT g, 1 + (g * 7919) % 99999,
    (ARRAY['plain', 'say "hi"', 'a, b', E'line\\nbreak', 'café ☕', 'naïve', 'Ωmega', 'x'])
        [1 + g % 8] || ' ' || g,
    timestamptz '2023-11-14 22:13:20+00' + g * interval '1 second',
    ((g * 104729) % 10000000) / 100.0,
    g % 2 = 0,
    CASE WHEN (g * 40503) % 100 < 40 THEN NULL
        ELSE (ARRAY['naïve, "quoted"', E'two\\nlines', 'Grüße 東京'])[1 + g % 3] END,
    ((g * 2654435761) % 1000000) / 10000.0,
    date '2022-01-08' + (g % 1000)::int,
    (ARRAY['a', 'bb', 'ccc', 'dd'])[1 + g % 4]
FROM generate_series(0::bigint, {rows} - 1) AS g"""


@dataclass
class Timing:
    label: str
    rows: int
    seconds: float
    peak_rss_mb: float


def build(engine: sa.Engine, table: str, rows: int) -> None:
    """A fresh table of `rows` rows, read once so hint bits are set before timing."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {SCHEMA}.{table}"))
        conn.execute(sa.text(f"CREATE TABLE {SCHEMA}.{table} ({COLUMNS})"))
        if rows:
            conn.execute(sa.text(FILL.format(table=f"{SCHEMA}.{table}", rows=rows)))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text(f"VACUUM ANALYZE {SCHEMA}.{table}")
        )


def wait(label: str, proc: subprocess.Popen[bytes]) -> float:
    """Wait for a process; its peak RSS in MB."""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{label} failed:\n{err}")
    return usage.ru_maxrss / 1024


def psql_pipe(rows: int) -> Timing:
    """psql \\copy out piped into psql \\copy in: the reference."""
    out = f"\\copy (SELECT * FROM {SCHEMA}.src) TO STDOUT"
    into = f"\\copy {SCHEMA}.dst_psql FROM STDIN"
    started = time.perf_counter()
    reader = subprocess.Popen(["psql", PG, "-q", "-c", out], stdout=subprocess.PIPE)
    writer = subprocess.Popen(
        ["psql", PG, "-q", "-c", into], stdin=reader.stdout, stderr=subprocess.PIPE
    )
    assert reader.stdout is not None
    reader.stdout.close()  # the writer holds the pipe now
    peak = max(wait("psql \\copy in", writer), wait("psql \\copy out", reader))
    return Timing("psql \\copy | psql \\copy", rows, time.perf_counter() - started, peak)


def dagsmith(rows: int, work: Path, source: str, target: str) -> Timing:
    """`dagsmith run`: the sql source, appended into an empty table."""
    spec = work / f"{source}.yaml"
    spec.write_text(
        f"""pipeline: bench_sql_copy
target: bench
streams:
  - name: rows
    source: {{kind: sql, connection: src, table: {SCHEMA}.{source}}}
    transform: {{strings: null}}
    load: {{table: {SCHEMA}.{target}, mode: append}}
"""
    )
    argv = [str(Path(sys.executable).with_name("dagsmith")), "run", "--json", str(spec)]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = wait("dagsmith run", proc)
    return Timing("dagsmith run (sql -> append)", rows, time.perf_counter() - started, peak)


def _env() -> dict[str, str]:
    """The connections, and bytecode caching on: an installed package has its .pyc files,
    and compiling pandas and SQLAlchemy afresh would cost seconds that no deployment pays."""
    env = {**os.environ, "AIRFLOW_CONN_SRC": PG, "AIRFLOW_CONN_BENCH": PG}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "dagsmith-pycache"))
    return env


def same_rows(engine: sa.Engine, rows: int) -> None:
    """Both targets hold the source's rows, value for value."""
    digest = "SELECT count(*), sum(hashtext(t::text)::numeric) FROM {SCHEMA}.{table} AS t"
    with engine.connect() as conn:
        found = {
            table: tuple(conn.execute(sa.text(digest.format(SCHEMA=SCHEMA, table=table))).one())
            for table in ("src", "dst_psql", "dst_dagsmith")
        }
    assert found["src"][0] == rows, found
    assert found["src"] == found["dst_psql"] == found["dst_dagsmith"], found


def report(results: list[Timing]) -> None:
    reference = results[0]
    header = ("", "seconds", "rows/s", "x pipe", "peak RSS")
    print("{:30} {:>8} {:>11} {:>7} {:>9}".format(*header))
    for r in results:
        ratio = r.seconds / reference.seconds
        print(
            f"{r.label:30} {r.seconds:8.2f} {r.rows / r.seconds:11,.0f} {ratio:7.2f}"
            f" {r.peak_rss_mb:6.0f} MB"
        )


def copy_bench(engine: sa.Engine, rows: int, repeat: int) -> None:
    """Best of `repeat` runs of each, alternating, each into empty tables after a checkpoint."""
    build(engine, "src", rows)
    print(f"\n{rows:,} rows, PostgreSQL table -> PostgreSQL table, best of {repeat}", flush=True)
    best: dict[str, Timing] = {}
    with tempfile.TemporaryDirectory(prefix="dagsmith-bench-") as work:
        build(engine, "warm_src", 0)
        build(engine, "warm_dst", 0)
        dagsmith(0, Path(work), "warm_src", "warm_dst")  # fills the bytecode cache
        for _ in range(repeat):
            for table in ("dst_psql", "dst_dagsmith"):
                build(engine, table, 0)
            for run in (psql_pipe, lambda n: dagsmith(n, Path(work), "src", "dst_dagsmith")):
                checkpoint(engine)  # the previous load's dirty pages are not this one's cost
                timing = run(rows)
                if timing.label not in best or timing.seconds < best[timing.label].seconds:
                    best[timing.label] = timing
    same_rows(engine, rows)
    report(list(best.values()))


def checkpoint(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("CHECKPOINT"))


def memory_bench(engine: sa.Engine, sizes: list[int]) -> None:
    """Peak RSS of draining the first N rows through the sql source, one process per N."""
    build(engine, "wide", max(sizes))
    print("\nsql source, drained (no load): peak RSS by rows read")
    for rows in sizes:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--drain", str(rows)],
            env=_env(),
            stderr=subprocess.PIPE,
        )
        print(f"{rows:>12,} rows {wait('drain', proc):8.0f} MB", flush=True)


def drain(rows: int) -> None:
    """Read the rows through the source and drop them: the process's RSS is the reader's."""
    from datetime import UTC, datetime

    from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats
    from connectors.sources import read
    from connectors.spec.sql import SqlSource

    query = f"SELECT * FROM {SCHEMA}.wide WHERE id < {rows}"
    spec = SqlSource(kind="sql", connection="src", query=query)
    run = RunInfo("bench", "bench", "drain", datetime.now(UTC))
    ctx = ReadContext(base_dir=Path.cwd(), batch_rows=131_072, rejects=Rejects(run, StreamStats()))
    assert sum(batch.num_rows for batch in read(spec, ctx)) == rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--memory-rows", type=int, nargs="*", default=[1_000_000, 3_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--drain", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        drain(args.drain)
        return
    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    try:
        copy_bench(engine, args.rows, args.repeat)
        if not args.no_memory:
            memory_bench(engine, args.memory_rows)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


if __name__ == "__main__":
    main()
