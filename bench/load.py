"""Load benchmark: dagsmith against psql \\copy and pandas to_sql, measured in one run.

Generates N rows x 10 columns as CSV (quotes, commas, newlines and non-ASCII in text, a
40%-null column, timestamps, decimals...), then times, into the local PostgreSQL, in
alternating rounds: psql \\copy into an empty table without a key (the append's reference)
and `dagsmith run` append into the same shape; psql \\copy into an empty table keyed on `id`
(the upsert's reference), then `dagsmith run` upsert of N rows, half of them changed, into
that table. pandas to_sql with defaults runs once (1M rows only: it is slow). Prints each
round's seconds and ratio to its reference, then the medians, and each command's peak RSS
and CPU seconds (user + system, of the command alone: the server's are not in them).
Each command starts after a CHECKPOINT (see `settle`). With `--baseline DIR` (a source tree,
e.g. `git archive HEAD` unpacked), each round also runs dagsmith from that tree, in
alternating order with the working tree's, against the same references.

    python bench/load.py                            # 1,000,000 and 5,000,000 rows, 3 rounds
    python bench/load.py --rows 200000 --rounds 1   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

PG = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "dagsmith_bench"
TYPES = {
    "id": "bigint",
    "customer_id": "bigint",
    "name": "string",
    "created_at": "timestamptz",
    "amount": "decimal(12,2)",
    "active": "boolean",
    "note": "string",
    "score": "float",
    "day": "date",
    "category": "string",
}
DDL = """CREATE TABLE {table} (id bigint{key}, customer_id bigint, name text,
created_at timestamptz, amount numeric(12,2), active boolean, note text,
score double precision, day date, category text)"""


@dataclass
class Timing:
    label: str
    rows: int
    seconds: float
    peak_rss_mb: float | None
    cpu_seconds: float = 0.0
    stream_seconds: float | None = None
    """dagsmith's own time for the stream, without interpreter start-up and imports."""


def generate(path: Path, rows: int, seed: int, changed_from: int | None = None) -> None:
    """Write the CSV in chunks; with `changed_from`, rows past it get new amounts."""
    rng = np.random.default_rng(seed)
    words = ["plain", 'say "hi"', "a, b", "line\nbreak", "café ☕", "naïve", "Ωmega", "x"]
    pairs = zip(words * 8, words[::-1] * 8, strict=True)
    names = np.array([f"{a} {b} {i}" for i, (a, b) in enumerate(pairs)])
    chunk = 500_000
    with pacsv.CSVWriter(path, _schema()) as writer:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ids = np.arange(start, start + n, dtype=np.int64)
            amount = rng.integers(0, 10_000_000, n) / 100
            if changed_from is not None:
                amount = np.where(ids % 2 == 0, amount + 1, amount)
            note = np.where(rng.random(n) < 0.4, None, names[rng.integers(0, len(names), n)])
            writer.write_table(
                pa.table(
                    {
                        "id": ids,
                        "customer_id": rng.integers(1, 100_000, n),
                        "name": names[rng.integers(0, len(names), n)],
                        "created_at": pa.array(
                            1_700_000_000_000_000 + ids * 1_000_000, pa.timestamp("us", "UTC")
                        ),
                        "amount": pa.array([f"{a:.2f}" for a in amount]),
                        "active": rng.random(n) < 0.5,
                        "note": pa.array(note, pa.string()),
                        "score": rng.random(n) * 100,
                        "day": pa.array(19_000 + (ids % 1000).astype(np.int32), pa.date32()),
                        "category": np.array(["a", "bb", "ccc", "dd"])[ids % 4],
                    },
                    schema=_schema(),
                )
            )


def _schema() -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.int64()),
            ("customer_id", pa.int64()),
            ("name", pa.string()),
            ("created_at", pa.timestamp("us", "UTC")),
            ("amount", pa.string()),
            ("active", pa.bool_()),
            ("note", pa.string()),
            ("score", pa.float64()),
            ("day", pa.date32()),
            ("category", pa.string()),
        ]
    )


def timed(label: str, rows: int, argv: list[str], env: dict[str, str] | None = None) -> Timing:
    """Run a command; its wall time and its peak RSS, sampled every 20 ms.

    Sampling, not wait4's ru_maxrss: a forked child inherits the benchmark's own
    resident size until it execs, which would inflate every small command.
    """
    started, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            peak = max(peak, watched.memory_info().rss)
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed:\n{proc.stderr.read() if proc.stderr else ''}")
    timing = Timing(label, rows, seconds, peak / 2**20, _children_cpu() - cpu)
    if "--json" in argv and proc.stdout is not None:
        timing.stream_seconds = json.load(proc.stdout)["streams"][0]["seconds"]
    return timing


def _children_cpu() -> float:
    """User + system CPU seconds of the waited-for children so far (commands run one at a
    time, so a difference is one command's)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spec(path: Path, csv: Path, table: str, mode: str) -> Path:
    types = "\n".join(f"        {k}: '{v}'" for k, v in TYPES.items())
    keys = "\n      keys: [id]" if mode == "upsert" else ""
    path.write_text(
        f"""pipeline: bench_{mode}
target: bench
streams:
  - name: rows
    source: {{kind: csv, path: {csv}}}
    transform:
      strings: null
      types:
{types}
    load:
      table: {SCHEMA}.{table}
      mode: {mode}{keys}
"""
    )
    return path


def reset(engine: sa.Engine, table: str, keyed: bool = False, ddl: str = DDL) -> None:
    """An empty table of the benchmark's shape (`ddl`: in another database's types)."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {SCHEMA}.{table}"))
        key = " PRIMARY KEY" if keyed else ""
        conn.execute(sa.text(ddl.format(table=f"{SCHEMA}.{table}", key=key)))


def settle(engine: sa.Engine, vacuum: str | None = None) -> None:
    """Start the next command from a checkpoint, so that none pays for the WAL of the one
    before it; with `vacuum`, that table is first left as autovacuum leaves a table that
    holds rows (hint bits set, statistics gathered)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if vacuum:
            conn.execute(sa.text(f"VACUUM ANALYZE {SCHEMA}.{vacuum}"))
        conn.execute(sa.text("CHECKPOINT"))


def run_size(
    rows: int, work: Path, engine: sa.Engine, args: argparse.Namespace
) -> list[list[Timing]]:
    """The rounds at one size; each round's Timings, references first."""
    csv, changed = work / f"rows_{rows}.csv", work / f"changed_{rows}.csv"
    generate(csv, rows, seed=1)
    generate(changed, rows, seed=1, changed_from=0)
    print(f"\n{rows:,} rows: {csv.stat().st_size / 1e6:.0f} MB of CSV", flush=True)
    trees = {"dagsmith": child_env()}
    if args.baseline:
        trees["baseline"] = child_env(args.baseline)
    dagsmith = [str(Path(sys.executable).with_name("dagsmith")), "run", "--json"]
    warm = work / "warm.csv"
    generate(warm, 10, seed=2)
    for env in trees.values():
        reset(engine, "warm")
        timed("warm-up", 10, [*dagsmith, str(spec(work / "w.yaml", warm, "warm", "append"))], env)
    append = spec(work / "a.yaml", csv, "append", "append")
    upsert = spec(work / "u.yaml", changed, "keyed", "upsert")
    all_rounds = []
    for number in range(1, args.rounds + 1):
        order = list(trees.items())[:: 1 if number % 2 else -1]
        results = [copy_into(engine, csv, rows, "append", keyed=False)]
        for tree, env in order:
            reset(engine, "append")
            settle(engine)
            results.append(timed(f"{tree} append", rows, [*dagsmith, str(append)], env))
        for tree, env in order:
            results.append(copy_into(engine, csv, rows, "keyed", keyed=True))
            settle(engine, vacuum="keyed")
            label = f"{tree} upsert (half changed)"
            results.append(timed(label, rows, [*dagsmith, str(upsert)], env))
        if number == 1 and rows <= args.to_sql_limit:
            argv = [sys.executable, __file__, "--to-sql", str(csv)]
            results.append(timed("pandas to_sql", rows, argv, env))
        check(engine, rows)
        report(results, f"round {number}")
        all_rounds.append(results)
    return all_rounds


def copy_into(engine: sa.Engine, csv: Path, rows: int, table: str, keyed: bool) -> Timing:
    """psql \\copy of the CSV into an empty table, with or without the key."""
    reset(engine, table, keyed=keyed)
    settle(engine)
    copy = f"\\copy {SCHEMA}.{table} FROM '{csv}' WITH (FORMAT csv, HEADER true)"
    label = "psql \\copy, keyed" if keyed else "psql \\copy"
    return timed(label, rows, ["psql", PG, "-q", "-c", copy])


def check(engine: sa.Engine, rows: int) -> None:
    """Read back: every row appended, and the upsert's changes in the keyed table."""
    with engine.connect() as conn:
        count = conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.append")).scalar_one()
        assert count == rows, f"append table holds {count} rows, expected {rows}"
        joined = f"""SELECT count(*), count(*) FILTER (WHERE k.amount <> a.amount)
            FROM {SCHEMA}.keyed k JOIN {SCHEMA}.append a USING (id)"""
        both, changed = conn.execute(sa.text(joined)).one()
    assert both == rows, f"keyed table holds {both} of the {rows} ids"
    assert changed == (rows + 1) // 2, f"{changed} rows changed, expected {(rows + 1) // 2}"


def child_env(tree: str | None = None) -> dict[str, str]:
    """The target connection, and bytecode caching on: an installed package has its .pyc
    files, and this machine's PYTHONDONTWRITEBYTECODE would make every command recompile
    pandas and SQLAlchemy, seconds that no deployment pays. With `tree`, dagsmith's code
    is imported from there (ahead of the installed working tree)."""
    env = {**os.environ, "AIRFLOW_CONN_BENCH": PG}
    if tree:
        env["PYTHONPATH"] = str(Path(tree).resolve())
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "dagsmith-pycache"))
    return env


def to_sql(csv: str) -> None:
    """The pandas reference, run in its own process so its RSS is its own."""
    import pandas as pd

    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg2://"))
    frame = pd.read_csv(csv)
    frame.to_sql("to_sql_ref", engine, schema=SCHEMA, if_exists="replace", index=False)


REFERENCES = {
    "dagsmith append": "psql \\copy",
    "dagsmith upsert (half changed)": "psql \\copy, keyed",
    "baseline append": "psql \\copy",
    "baseline upsert (half changed)": "psql \\copy, keyed",
}


def _paired(results: list[Timing]) -> Iterator[tuple[Timing, Timing]]:
    """Each command with its reference: the latest one measured before it in the round."""
    latest: dict[str, Timing] = {}
    for r in results:
        latest[r.label] = r
        yield r, latest.get(REFERENCES.get(r.label, "psql \\copy"), r)


def report(results: list[Timing], title: str) -> None:
    """One round: each command against its reference (the upsert's is the keyed \\copy)."""
    header = (title, "seconds", "x ref", "CPU s", "peak RSS", "in-process s", "x ref")
    print("{:32} {:>8} {:>8} {:>7} {:>9} {:>12} {:>8}".format(*header))
    for r, reference in _paired(results):
        rss = f"{r.peak_rss_mb:.0f} MB" if r.peak_rss_mb is not None else ""
        inner = ratio = ""
        if r.stream_seconds is not None:
            inner = f"{r.stream_seconds:.2f}"
            ratio = f"{r.stream_seconds / reference.seconds:.2f}"
        print(
            f"{r.label:32} {r.seconds:8.2f} {r.seconds / reference.seconds:8.2f} "
            f"{r.cpu_seconds:7.2f} {rss:>9} {inner:>12} {ratio:>8}",
            flush=True,
        )


def summary(rounds: list[list[Timing]]) -> None:
    """Median and range over the rounds of each ratio to its reference in the same round,
    and of each command's own CPU seconds."""
    print(f"median of {len(rounds)} round(s) [min-max]: x ref whole | in-process | CPU s")
    found: dict[str, tuple[list[float], list[float], list[float]]] = {}
    for results in rounds:
        for r, ref in _paired(results):
            whole, inner, cpu = found.setdefault(r.label, ([], [], []))
            whole.append(r.seconds / ref.seconds)
            inner.append((r.stream_seconds or 0.0) / ref.seconds)
            cpu.append(r.cpu_seconds)
    for label, (whole, inner, cpu) in found.items():
        if label in REFERENCES:
            print(f"  {label:32} {_spread(whole)} | {_spread(inner)} | {_spread(cpu)}")
        elif label != "pandas to_sql":
            print(f"  {label:32} {'':>29} {_spread(cpu)}")


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--to-sql-limit", type=int, default=1_000_000)
    parser.add_argument("--to-sql", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help="a source tree to run against the working tree")
    args = parser.parse_args()
    if args.to_sql:
        to_sql(args.to_sql)
        return
    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    work = Path(tempfile.mkdtemp(prefix="dagsmith-bench-"))
    try:
        for rows in args.rows:
            summary(run_size(rows, work, engine, args))
    finally:
        shutil.rmtree(work)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


if __name__ == "__main__":
    main()
