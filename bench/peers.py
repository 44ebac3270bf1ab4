"""Peer benchmark: dagsmith against dlt on the same workloads into the same PostgreSQL.

dlt (with its PostgreSQL, parquet and sql_database extras, and PyMySQL) is installed into
a virtual environment of its own under the work folder, kept for the next run. Workloads,
each tool writing into an empty schema of its own, in alternating rounds:

- `csv append`: N rows of `bench/load.py`'s CSV into a new table. dlt is given Arrow
  batches typed as dagsmith's spec types them, loaded with its `csv` (COPY) file format.
- `csv upsert`: the same N rows, half changed, upserted on `id` into the table a first
  (untimed) upsert filled; dlt's `merge` disposition, `upsert` strategy.
- `penguins upsert`: the 344 rows of palmerpenguins (numbered), upserted twice, the second
  run timed (nothing changes).
- `mariadb`: 10,000 rows of a MariaDB table appended into PostgreSQL (dlt's `sql_table`).
- `rest`: 1,234 JSON records (a nested object each) over 13 pages of 100, from a server on
  loopback in this process (`?page=N`, until an empty page), appended into a new table
  (dlt's `rest_api` source with its page-number paginator, its default file format).

Each time is the whole command (`dagsmith run`, `python dlt_run.py`), interpreter start
included; dagsmith's in-process time comes from `run --json`. Every run is read back (row
count, and a sum that the changed rows move) before its time counts. Prints the medians.

    python bench/peers.py                        # 1,000,000 rows, 3 rounds
    python bench/peers.py --rows 5000000 --rounds 1 --only "csv append"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa
from load import PG, TYPES, child_env, generate

MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
DLT_PG = "postgresql://postgres:unused@127.0.0.1:5432/test"  # dlt insists on a password
SCHEMAS = {"dagsmith": "peers_dagsmith", "dlt": "peers_dlt"}
DLT_PACKAGES = ["dlt[postgres,parquet,sql-database]==1.31.0", "pymysql"]
DLT_RUN = '''"""One dlt run of a workload (written by bench/peers.py); prints its seconds."""
import json, os, sys, time

import dlt
import pyarrow as pa
import pyarrow.csv as pacsv

workload, source, dataset, types = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
started = time.perf_counter()
ARROW = {"bigint": pa.int64(), "string": pa.string(), "timestamptz": pa.timestamp("us", "UTC"),
         "decimal(12,2)": pa.decimal128(12, 2), "boolean": pa.bool_(), "float": pa.float64(),
         "date": pa.date32()}


def batches():
    convert = pacsv.ConvertOptions(column_types={k: ARROW[v] for k, v in types.items()})
    parse = pacsv.ParseOptions(newlines_in_values=True)
    with pacsv.open_csv(source, parse_options=parse, convert_options=convert) as reader:
        for batch in reader:
            yield pa.Table.from_batches([batch])


pipeline = dlt.pipeline(workload.replace(" ", "_"), destination="postgres",
                        dataset_name=dataset, pipelines_dir=os.environ["PEERS_DLT_DIR"])
if workload == "rest":
    from dlt.sources.rest_api import rest_api_source
    paginator = {"type": "page_number", "base_page": 1, "page_param": "page",
                 "total_path": None, "stop_after_empty_page": True}
    info = pipeline.run(rest_api_source({
        "client": {"base_url": source, "paginator": paginator},
        "resources": [{"name": "orders", "endpoint": {"path": "orders", "data_selector": "data"}}],
    }), write_disposition="append")
elif workload == "mariadb":
    from dlt.sources.sql_database import sql_table
    info = pipeline.run(sql_table(credentials=os.environ["PEERS_MARIADB"], table=source,
                                  backend="pyarrow"), write_disposition="append",
                        loader_file_format="csv")
else:
    upsert = {"disposition": "merge", "strategy": "upsert"}
    mode = "append" if workload == "csv append" else upsert
    resource = dlt.resource(batches, name="rows", write_disposition=mode, primary_key="id")
    info = pipeline.run(resource(), loader_file_format="csv")
info.raise_on_failed_jobs()
print(json.dumps({"seconds": time.perf_counter() - started}))
'''


def dlt_python(work: Path) -> Path:
    """The dlt environment's interpreter, created and filled on the first run."""
    venv = work / "dlt-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"installing {', '.join(DLT_PACKAGES)} into {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", *DLT_PACKAGES]
        subprocess.run(pip, check=True)
    (work / "dlt_run.py").write_text(DLT_RUN)
    return python


def spec(work: Path, name: str, source: str, table: str, mode: str, types: str) -> Path:
    keys = "\n      keys: [id]" if mode == "upsert" else ""
    path = work / f"{name.replace(' ', '_')}.yaml"
    path.write_text(
        f"""pipeline: peers_{name.replace(" ", "_")}
target: bench
streams:
  - name: rows
    source: {source}
    transform:
      strings: null{types}
    load:
      table: {SCHEMAS["dagsmith"]}.{table}
      mode: {mode}{keys}
"""
    )
    return path


def csv_types() -> str:
    lines = "".join(f"\n        {k}: '{v}'" for k, v in TYPES.items())
    return f"\n      types:{lines}"


class Peers:
    """The workloads, their inputs and how each tool runs and is read back."""

    def __init__(self, work: Path, rows: int, engine: sa.Engine) -> None:
        self.work, self.rows, self.engine = work, rows, engine
        self.python = dlt_python(work)
        self.csv, self.changed = work / f"rows_{rows}.csv", work / f"changed_{rows}.csv"
        if not self.csv.exists():
            generate(self.csv, rows, seed=1)
            generate(self.changed, rows, seed=1, changed_from=0)
        self.penguins = work / "penguins.csv"
        self._penguins_csv()
        self._mariadb_table()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Orders)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.api = f"http://127.0.0.1:{self._server.server_address[1]}"

    def workloads(self) -> dict[str, tuple[int, Decimal | None]]:
        """Each workload's expected row count and sum of its checked column."""
        amounts = pacsv.read_csv(
            self.changed,
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={"amount": pa.decimal128(12, 2)}),
        )["amount"]
        return {
            "csv append": (self.rows, None),
            "csv upsert": (self.rows, pc.sum(amounts).as_py()),
            "penguins upsert": (344, None),
            "mariadb": (10_000, Decimal(10_000 * 9_999 // 2)),
            "rest": (REST_ROWS, Decimal(REST_ROWS * (REST_ROWS + 1) // 2)),
        }

    def run(self, tool: str, workload: str) -> tuple[float, float | None]:
        """Reset the tool's schema, run what the timed run needs first, then time it."""
        self._reset(tool)
        if workload == "csv upsert":
            self._once(tool, workload, self.csv)
        if workload == "penguins upsert":
            self._once(tool, workload, self.penguins)
        source = {"csv append": self.csv, "csv upsert": self.changed}.get(workload)
        return self._once(tool, workload, source or self.penguins)

    def check(self, tool: str, workload: str, expected: tuple[int, Decimal | None]) -> None:
        column = {"csv upsert": "amount", "mariadb": "id", "rest": "id"}.get(workload, "NULL::int")
        table = f"{SCHEMAS[tool]}.{self._table(tool, workload)}"
        with self.engine.connect() as conn:
            count, total = conn.execute(
                sa.text(f"SELECT count(*), sum({column}) FROM {table}")
            ).one()
        rows, wanted = expected
        assert count == rows, f"{tool} {workload}: {count} rows, expected {rows}"
        assert wanted is None or total == wanted, f"{tool} {workload}: sum {total} != {wanted}"

    def _once(self, tool: str, workload: str, source: Path) -> tuple[float, float | None]:
        started = time.perf_counter()
        if tool == "dlt":
            argv = [str(self.python), str(self.work / "dlt_run.py"), workload]
            argv += [self._dlt_source(workload, source), SCHEMAS["dlt"], json.dumps(TYPES)]
            env = {
                **child_env(),
                "DESTINATION__POSTGRES__CREDENTIALS": DLT_PG,
                "PEERS_DLT_DIR": str(self.work / "dlt"),
                "PEERS_MARIADB": MARIADB,
            }
            out = subprocess.run(
                argv, check=False, env=env, capture_output=True, text=True, cwd=self.work
            )
        else:
            dagsmith = str(Path(sys.executable).with_name("dagsmith"))
            argv = [dagsmith, "run", "--json", str(self._spec(workload, source))]
            env = {**child_env(), "AIRFLOW_CONN_PEERS_SRC": MARIADB, "AIRFLOW_CONN_API": self.api}
            out = subprocess.run(argv, check=False, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if out.returncode != 0:
            raise SystemExit(f"{tool} {workload} failed:\n{out.stderr[-3000:]}")
        if tool == "dlt":
            return seconds, None
        return seconds, json.loads(out.stdout)["streams"][0]["seconds"]

    def _spec(self, workload: str, source: Path) -> Path:
        table = self._table("dagsmith", workload)
        if workload == "mariadb":
            src = "{kind: sql, connection: peers_src, table: peers_src}"
            return spec(self.work, workload, src, table, "append", "")
        if workload == "rest":
            src = (
                "{kind: rest, connection: api, endpoint: orders, records: '$.data', "
                "pagination: {type: page_number}}"
            )
            return spec(self.work, workload, src, table, "append", "")
        mode = "append" if workload == "csv append" else "upsert"
        types = csv_types() if workload.startswith("csv") else ""
        return spec(self.work, workload, f"{{kind: csv, path: {source}}}", table, mode, types)

    def _dlt_source(self, workload: str, source: Path) -> str:
        return {"mariadb": "peers_src", "rest": self.api}.get(workload, str(source))

    @staticmethod
    def _table(tool: str, workload: str) -> str:
        if tool == "dlt":
            return {"mariadb": "peers_src", "rest": "orders"}.get(workload, "rows")
        return workload.replace(" ", "_")

    def tidy(self) -> None:
        """Drop what the runs left: both schemas and the MariaDB table; stop the server."""
        self._server.shutdown()
        with self.engine.begin() as conn:
            for schema in SCHEMAS.values():
                conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine = sa.create_engine(MARIADB)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS peers_src"))
        engine.dispose()

    def _reset(self, tool: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMAS[tool]} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {SCHEMAS[tool]}"))
            conn.execute(sa.text("CHECKPOINT"))

    def _penguins_csv(self) -> None:
        """palmerpenguins' rows with an `id` (they have no key of their own)."""
        import palmerpenguins

        data = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
        lines = data.read_text().splitlines()
        numbered = [f"id,{lines[0]}"] + [f"{i},{line}" for i, line in enumerate(lines[1:], 1)]
        self.penguins.write_text("\n".join(numbered) + "\n")

    def _mariadb_table(self) -> None:
        """`peers_src` in MariaDB: 10,000 rows of a few types."""
        engine = sa.create_engine(MARIADB)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS peers_src"))
            conn.execute(
                sa.text(
                    "CREATE TABLE peers_src (id BIGINT PRIMARY KEY, name VARCHAR(40), "
                    "amount DECIMAL(12,2), created_at DATETIME(6), active BOOLEAN)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO peers_src SELECT seq, concat('name ', seq), seq / 100, "
                    "'2026-01-01' + INTERVAL seq SECOND, seq % 2 = 0 FROM seq_0_to_9999"
                )
            )
        engine.dispose()


REST_ROWS, REST_PAGE = 1_234, 100


class _Orders(BaseHTTPRequestHandler):
    """`GET /orders?page=N` (from 1): up to 100 records of REST_ROWS, then an empty page."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.rstrip("/") != "/orders":
            self.send_error(404)
            return
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        first = (page - 1) * REST_PAGE + 1
        ids = range(first, min(first + REST_PAGE, REST_ROWS + 1))
        body = json.dumps({"data": [_order(i) for i in ids], "page": page}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: one line per request would drown the timings."""


def _order(i: int) -> dict[str, object]:
    return {
        "id": i,
        "status": ("new", "paid", "shipped")[i % 3],
        "amount": round(i * 1.37, 2),
        "created_at": f"2026-01-{i % 28 + 1:02d}T{i % 24:02d}:00:00Z",
        "customer": {"name": f"customer {i % 97}", "city": ("Lyon", "Oslo", "Lima")[i % 3]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", help="run only this workload (repeatable)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/dagsmith-peers"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_CONN_BENCH"] = PG
    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg2://"))
    peers = Peers(args.work, args.rows, engine)
    expected = peers.workloads()
    chosen = [w for w in expected if not args.only or w in args.only]
    times: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
    try:
        for number in range(1, args.rounds + 1):
            for workload in chosen:
                for tool in ("dlt", "dagsmith") if number % 2 else ("dagsmith", "dlt"):
                    timing = peers.run(tool, workload)
                    peers.check(tool, workload, expected[workload])
                    times.setdefault((workload, tool), []).append(timing)
                    print(f"round {number}: {workload:16} {tool:8} {timing[0]:7.2f} s", flush=True)
    finally:
        peers.tidy()
    table(chosen, times, args.rows)


def table(
    chosen: list[str], times: dict[tuple[str, str], list[tuple[float, float | None]]], rows: int
) -> None:
    """The medians as a Markdown table."""
    header = "dlt (run, s) | dagsmith `run` (s) | dagsmith in-process (s)"
    print(f"\n| workload ({rows:,} CSV rows) | {header} |")
    print("|---|---:|---:|---:|")
    for workload in chosen:
        dlt = statistics.median(t for t, _ in times[(workload, "dlt")])
        ours = statistics.median(t for t, _ in times[(workload, "dagsmith")])
        inner = statistics.median(i or 0.0 for _, i in times[(workload, "dagsmith")])
        print(f"| {workload} | {dlt:.2f} | {ours:.2f} | {inner:.2f} |")


if __name__ == "__main__":
    main()
