"""MariaDB load benchmark: dagsmith against the client's LOAD DATA LOCAL INFILE, in one run.

Generates N rows x 10 columns as CSV (`bench/load.py`'s data: quotes, commas, newlines and
non-ASCII in text, a 40%-null column, timestamps, decimals...), then times, into the local
MariaDB: the `mariadb` (or `mysql`) client's LOAD DATA LOCAL INFILE of the CSV into an empty
table keyed on `id` (the reference), `dagsmith run` append into an empty table, and
`dagsmith run` upsert of N rows, half of them changed, into the keyed table. Prints each
command's seconds, its ratio to the reference and its own CPU seconds, then reads back
both tables.

    python bench/load_mariadb.py                  # 1,000,000 rows
    python bench/load_mariadb.py --rows 200000    # a quick look
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from load import TYPES, Timing, child_env, generate, reset, spec, timed

URL = "mysql+pymysql://root@127.0.0.1:3306/test"
SCHEMA = "dagsmith_bench"  # `bench/load.py`'s: its specs name their tables so
DDL = """CREATE TABLE {table} (id BIGINT{key}, customer_id BIGINT, name TEXT,
created_at DATETIME(6), amount DECIMAL(12,2), active BOOLEAN, note TEXT, score DOUBLE,
day DATE, category TEXT)"""
COLUMNS = ["id", "customer_id", "name", "created_at", "amount", "active", "note", "score"]
COLUMNS += ["day", "category"]
# pyarrow's CSV: "" inside quotes, an empty field for NULL, `...Z` timestamps, true/false.
LOAD = """LOAD DATA LOCAL INFILE '{csv}' INTO TABLE {table} CHARACTER SET utf8mb4
FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\\n'
IGNORE 1 LINES (id, customer_id, name, @created_at, amount, @active, @note, score, day,
category) SET created_at = REPLACE(@created_at, 'Z', ''), active = (@active = 'true'),
note = NULLIF(@note, '')"""


def client() -> str:
    """The MariaDB client installed here (`mariadb`, else `mysql`)."""
    found = shutil.which("mariadb") or shutil.which("mysql")
    if not found:
        raise SystemExit("neither the mariadb nor the mysql client is installed")
    return found


def load_data(engine: sa.Engine, csv: Path, rows: int) -> Timing:
    """The client's LOAD DATA LOCAL INFILE into an empty keyed table."""
    reset(engine, "keyed", keyed=True, ddl=DDL)
    url = engine.url
    argv = [client(), "--local-infile=1", f"-h{url.host}", f"-P{url.port}", f"-u{url.username}"]
    statement = LOAD.format(csv=csv, table=f"{SCHEMA}.keyed")
    return timed("LOAD DATA LOCAL INFILE, keyed", rows, [*argv, SCHEMA, "-e", statement])


def check(engine: sa.Engine, rows: int) -> None:
    """Read back: every row appended, and the upsert's changes in the keyed table."""
    with engine.connect() as conn:
        count = conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.append")).scalar_one()
        assert count == rows, f"append table holds {count} rows, expected {rows}"
        joined = f"""SELECT count(*), sum(k.amount <> a.amount),
            sum(NOT (k.name <=> a.name AND k.note <=> a.note AND k.day <=> a.day
                AND k.created_at <=> a.created_at AND k.active <=> a.active))
            FROM {SCHEMA}.keyed k JOIN {SCHEMA}.append a USING (id)"""
        both, changed, differ = conn.execute(sa.text(joined)).one()
    assert both == rows, f"keyed table holds {both} of the {rows} ids"
    assert changed == (rows + 1) // 2, f"{changed} rows changed, expected {(rows + 1) // 2}"
    assert differ == 0, f"{differ} rows differ from the appended ones beyond the amount"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    engine = sa.create_engine(URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {SCHEMA}"))
        conn.execute(sa.text(f"CREATE DATABASE {SCHEMA} CHARACTER SET utf8mb4"))
    work = Path(tempfile.mkdtemp(prefix="dagsmith-bench-"))
    env = {**child_env(), "AIRFLOW_CONN_BENCH": URL.replace("+pymysql", "")}
    dagsmith = [str(Path(sys.executable).with_name("dagsmith")), "run", "--json"]
    try:
        csv, changed = work / "rows.csv", work / "changed.csv"
        generate(csv, args.rows, seed=1)
        generate(changed, args.rows, seed=1, changed_from=0)
        print(f"{args.rows:,} rows: {csv.stat().st_size / 1e6:.0f} MB of CSV", flush=True)
        assert list(TYPES) == COLUMNS, "bench/load.py's columns changed: update DDL and LOAD"
        warm = work / "warm.csv"
        generate(warm, 10, seed=2)
        reset(engine, "warm", ddl=DDL)
        timed("warm-up", 10, [*dagsmith, str(spec(work / "w.yaml", warm, "warm", "append"))], env)
        reference = load_data(engine, csv, args.rows)
        reset(engine, "append", ddl=DDL)
        append = spec(work / "a.yaml", csv, "append", "append")
        upsert = spec(work / "u.yaml", changed, "keyed", "upsert")
        results = [
            reference,
            timed("dagsmith append", args.rows, [*dagsmith, str(append)], env),
            timed("dagsmith upsert (half changed)", args.rows, [*dagsmith, str(upsert)], env),
        ]
        check(engine, args.rows)
        print(f"{'':32} {'seconds':>8} {'x ref':>8} {'CPU s':>7} {'in-process s':>12}")
        for r in results:
            inner = f"{r.stream_seconds:.2f}" if r.stream_seconds is not None else ""
            print(
                f"{r.label:32} {r.seconds:8.2f} {r.seconds / reference.seconds:8.2f} "
                f"{r.cpu_seconds:7.2f} {inner:>12}"
            )
    finally:
        shutil.rmtree(work)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {SCHEMA}"))


if __name__ == "__main__":
    main()
