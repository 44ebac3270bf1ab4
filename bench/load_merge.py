"""Upsert statements compared in PostgreSQL alone: `INSERT ... ON CONFLICT` against MERGE.

The table dagsmith's upsert writes (`bench/load.py`'s shape, keyed on `id`) holds N rows;
a staged table holds N rows, half of them changed (dagsmith's staging, typed). In
alternating rounds, each from a fresh target (vacuumed, then a CHECKPOINT), one
transaction runs either the statement dagsmith runs, `INSERT ... ON CONFLICT (id) DO
UPDATE ... WHERE ROW(...) IS DISTINCT FROM ROW(...)`, or its MERGE equivalent (PostgreSQL
15+), with the same result checked. Prints each statement's seconds.

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
MERGE = f"""MERGE INTO {SCHEMA}.target AS t USING {SCHEMA}.stage AS s ON t.id = s.id
WHEN MATCHED AND ROW({MINE}) IS DISTINCT FROM ROW({THEIRS}) THEN UPDATE SET {SETS}
WHEN NOT MATCHED THEN INSERT ({NAMES}) VALUES (s.id, {THEIRS})"""


def load(conn: psycopg2.extensions.connection, table: str, csv: Path, keyed: bool) -> None:
    with conn.cursor() as cur, csv.open("rb") as data:
        cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
        key = " PRIMARY KEY" if keyed else ""
        cur.execute(DDL.format(table=f"{SCHEMA}.{table}", key=key))
        if not keyed:
            cur.execute(f"ALTER TABLE {SCHEMA}.{table} SET UNLOGGED")
        cur.copy_expert(f"COPY {SCHEMA}.{table} FROM STDIN WITH (FORMAT csv, HEADER true)", data)
    conn.commit()


def timed(conn: psycopg2.extensions.connection, sql: str, csv: Path) -> tuple[float, int]:
    """A fresh target, settled; the statement's seconds and the rows it wrote."""
    load(conn, "target", csv, keyed=True)
    conn.set_session(autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.target")
        cur.execute(f"VACUUM ANALYZE {SCHEMA}.stage")
        cur.execute("CHECKPOINT")
    conn.set_session(autocommit=False)
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute(sql)
        written = cur.rowcount
    conn.commit()
    return time.perf_counter() - started, written


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
        times: dict[str, list[float]] = {"INSERT ... ON CONFLICT": [], "MERGE": []}
        for number in range(1, args.rounds + 1):
            for label, sql in (("INSERT ... ON CONFLICT", ON_CONFLICT), ("MERGE", MERGE)):
                seconds, written = timed(conn, sql, csv)
                assert written == (args.rows + 1) // 2, f"{label} wrote {written} rows"
                times[label].append(seconds)
                print(f"round {number}: {label:24} {seconds:6.2f} s, {written:,} rows written")
        for label, values in times.items():
            print(
                f"{label:24} median {statistics.median(values):.2f} s [{min(values):.2f}-"
                f"{max(values):.2f}]"
            )
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.commit()
        conn.close()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
