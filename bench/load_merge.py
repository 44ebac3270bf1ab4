"""Upsert statements compared in PostgreSQL alone: `INSERT ... ON CONFLICT` against MERGE.

The table dagsmith's upsert writes (`bench/load.py`'s shape, keyed on `id`) holds N rows;
a staged table holds N rows, half of them changed (dagsmith's staging, typed). In
alternating rounds, each from a fresh target (vacuumed, then a CHECKPOINT), one
transaction runs one of the statements: `INSERT ... ON CONFLICT (id) DO UPDATE ... WHERE
ROW(...) IS DISTINCT FROM ROW(...)` (dagsmith's before PostgreSQL 15), its MERGE
equivalent as the planner chooses and with index probes only (dagsmith's on 15+), and the
variants tried, with the same result checked. Prints each statement's seconds and its
server process's CPU seconds.

    python bench/load_merge.py               # 1,000,000 rows, 3 rounds
    python bench/load_merge.py --rows 200000 --rounds 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psutil
import psycopg2
from load import DDL, SCHEMA, generate

COLUMNS = ["customer_id", "name", "created_at", "amount", "active", "note", "score", "day"]
COLUMNS.append("category")
SETS = ", ".join(f"{c} = s.{c}" for c in COLUMNS)
MINE, THEIRS = ", ".join(f"t.{c}" for c in COLUMNS), ", ".join(f"s.{c}" for c in COLUMNS)
NAMES = ", ".join(["id", *COLUMNS])
ON_CONFLICT = f"""INSERT INTO {SCHEMA}.target AS t ({NAMES}) SELECT {NAMES} FROM {SCHEMA}.stage
ON CONFLICT (id) DO UPDATE SET {SETS.replace("s.", "EXCLUDED.")}
WHERE ROW({MINE}) IS DISTINCT FROM ROW({THEIRS.replace("s.", "EXCLUDED.")})"""
# What dagsmith runs: the same statement, counting inserted and updated rows.
COUNTED = f"""WITH m AS ({ON_CONFLICT} RETURNING (t.xmax = 0) AS ins)
SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM m"""
MERGE = f"""MERGE INTO {SCHEMA}.target AS t USING {SCHEMA}.stage AS s ON t.id = s.id
WHEN MATCHED AND ROW({MINE}) IS DISTINCT FROM ROW({THEIRS}) THEN UPDATE SET {SETS}
WHEN NOT MATCHED THEN INSERT ({NAMES}) VALUES (s.id, {THEIRS})"""
# The same end state in two statements of one transaction, both counted: the rows that differ
# updated through a join (an unchanged row is only read, never locked), then the keys still
# missing inserted, with the first statement's ON CONFLICT kept for a key another writer
# inserts in between.
SPLIT = f"""WITH u AS (UPDATE {SCHEMA}.target AS t SET {SETS} FROM {SCHEMA}.stage AS s
WHERE t.id = s.id AND ROW({MINE}) IS DISTINCT FROM ROW({THEIRS}) RETURNING 1)
SELECT count(*), 0 FROM u;
WITH m AS (INSERT INTO {SCHEMA}.target AS t ({NAMES}) SELECT {NAMES} FROM {SCHEMA}.stage AS s
WHERE NOT EXISTS (SELECT FROM {SCHEMA}.target AS x WHERE x.id = s.id)
ON CONFLICT (id) DO UPDATE SET {SETS.replace("s.", "EXCLUDED.")}
WHERE ROW({MINE}) IS DISTINCT FROM ROW({THEIRS.replace("s.", "EXCLUDED.")})
RETURNING (t.xmax = 0) AS ins)
SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM m"""


def load(conn: psycopg2.extensions.connection, table: str, csv: Path, keyed: bool) -> None:
    with conn.cursor() as cur, csv.open("rb") as data:
        cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
        key = " PRIMARY KEY" if keyed else ""
        cur.execute(DDL.format(table=f"{SCHEMA}.{table}", key=key))
        if not keyed:
            cur.execute(f"ALTER TABLE {SCHEMA}.{table} SET UNLOGGED")
        cur.copy_expert(f"COPY {SCHEMA}.{table} FROM STDIN WITH (FORMAT csv, HEADER true)", data)
    conn.commit()


def timed(
    conn: psycopg2.extensions.connection, sql: str, csv: Path, settings: tuple[str, ...]
) -> tuple[float, float, int]:
    """A fresh target, settled; the statement's seconds, its server process's CPU seconds
    (less swayed by other work on the machine) and the rows it wrote."""
    load(conn, "target", csv, keyed=True)
    conn.set_session(autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.target")
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.stage")
        cur.execute("CHECKPOINT")
    conn.set_session(autocommit=False)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cur.fetchone()[0])
    cpu, started = sum(backend.cpu_times()[:2]), time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        for setting in settings:
            cur.execute(f"SET LOCAL {setting}")
        written = 0
        for statement in sql.split(";\n"):
            cur.execute(statement)
            written += sum(cur.fetchone()) if cur.description else cur.rowcount
    conn.commit()
    return time.perf_counter() - started, sum(backend.cpu_times()[:2]) - cpu, written


# dagsmith's MERGE (PostgreSQL 15+): index probes only, as ON CONFLICT makes them.
PROBES = ("enable_hashjoin = off", "enable_mergejoin = off")
VARIANTS = [
    ("INSERT ... ON CONFLICT", ON_CONFLICT, ()),
    ("same, counted (dagsmith's before 15)", COUNTED, ()),
    ("same, counted, wal_compression = lz4", COUNTED, ("wal_compression = lz4",)),
    ("MERGE", MERGE, ()),
    ("MERGE, index probes (dagsmith's on 15+)", MERGE, PROBES),
    ("UPDATE ... FROM, then INSERT ... ON CONFLICT", SPLIT, ()),
]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dagsmith-merge-"))
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version()")
            print(cur.fetchone()[0])
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            cur.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.commit()
        csv, changed = work / "rows.csv", work / "changed.csv"
        generate(csv, args.rows, seed=1)
        generate(changed, args.rows, seed=1, changed_from=0)
        load(conn, "stage", changed, keyed=False)
        times: dict[str, tuple[list[float], list[float]]] = {v[0]: ([], []) for v in VARIANTS}
        for number in range(1, args.rounds + 1):
            for label, sql, settings in VARIANTS:
                seconds, cpu, written = timed(conn, sql, csv, settings)
                assert written == (args.rows + 1) // 2, f"{label} wrote {written} rows"
                times[label][0].append(seconds)
                times[label][1].append(cpu)
                print(f"round {number}: {label:44} {seconds:6.2f} s, server CPU {cpu:5.2f} s")
        for label, (wall, cpu) in times.items():
            print(f"{label:44} median {_spread(wall)} s, server CPU {_spread(cpu)} s")
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.commit()
        conn.close()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
