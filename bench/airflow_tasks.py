"""Airflow task overhead per stream: `dag.test()` of a generated DAG with 10-row CSV streams.

A 10-row stream's own work (read, cast, COPY) is a few milliseconds, so what a run of the
DAG costs is what its tasks cost around that work. Two numbers, both per stream:

- `dag.test()`: the wall time of one DAG run (tasks in this process, as `dag.test()` runs
  them), divided by the streams; each round is a new logical date, so a new run id;
- process start: what a task process imports before its work (`connectors.airflow_tasks`
  and its dependencies, after `airflow.sdk`), timed in fresh interpreters, times the tasks
  of a stream. A worker (LocalExecutor, Celery) starts one such process per task.

    python bench/airflow_tasks.py [--streams 2] [--rounds 5] [--imports 5]

PostgreSQL comes from `DAGSMITH_BENCH_PG` (default: the local `test` database); the
benchmark loads into a schema of its own and drops it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("DAGSMITH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ROWS = "".join(f"{n},{n * 1.5:.2f},customer {n}\n" for n in range(1, 11))
IMPORTS = (
    "import time, airflow.sdk; t = time.perf_counter(); import connectors.airflow_tasks; "
    "print(time.perf_counter() - t)"
)


def spec(dag_id: str, schema: str, streams: int) -> str:
    """A spec with `streams` CSV streams of 10 rows each into PostgreSQL."""
    body = "".join(
        f"""
  - name: orders_{n}
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{order_id: bigint, amount: "decimal(12,2)"}}}}
    load: {{table: {schema}.orders_{n}, mode: upsert, keys: [order_id]}}"""
        for n in range(streams)
    )
    return f"pipeline: {dag_id}\ntarget: warehouse\nstreams:{body}\n"


def setup(home: Path) -> None:
    """Airflow's environment (before anything imports it) and a migrated metadata database."""
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "DAGSMITH_STAGING_URL": str(home / "staging"),
            "DAGSMITH_PROJECT_DIR": str(home),
            "AIRFLOW_CONN_WAREHOUSE": PG_URL,
        }
    )
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)


def import_seconds(times: int) -> float:
    """Median time a fresh interpreter takes to import what a task runs, after airflow.sdk."""
    runs = []
    for _ in range(times):
        command = [sys.executable, "-c", IMPORTS]
        done = subprocess.run(command, check=False, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"the import of a task's modules failed:\n{done.stderr}")
        runs.append(float(done.stdout.split()[-1]))
    return statistics.median(runs)


@contextmanager
def quiet() -> Iterator[None]:
    """Airflow's task logs to /dev/null (file descriptor 1: its handlers hold sys.stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--imports", type=int, default=5, help="fresh interpreters to time")
    args = parser.parse_args()
    if args.rounds < 1 or args.streams < 1:
        parser.error("--rounds and --streams take 1 or more")
    home = Path(tempfile.mkdtemp(prefix="dagsmith-bench-airflow-"))
    (home / "pipelines" / "data").mkdir(parents=True)
    (home / "dags").mkdir()
    (home / "pipelines" / "data" / "orders.csv").write_text("order_id,amount,customer\n" + ROWS)
    setup(home)

    import sqlalchemy as sa
    from airflow.dag_processing.dagbag import DagBag

    from agent.dags.dagfiles import render_all, write_dags

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg2://", 1))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        spec_path = home / "pipelines" / "bench.yaml"
        spec_path.write_text(spec(f"bench_{schema}", schema, args.streams))
        (rendered,) = render_all([spec_path], home / "dags")
        write_dags([rendered])
        bag = DagBag(dag_folder=rendered.path, safe_mode=False, load_op_links=False)
        dag = bag.dags[rendered.spec.pipeline]
        walls, tasks = [], 0
        start = datetime(2025, 1, 1, tzinfo=UTC)
        for n in range(args.rounds + 1):  # the first run, which imports everything, is left out
            date = start + timedelta(days=n)
            began = time.perf_counter()
            with quiet():
                run = dag.test(logical_date=date, run_after=date)
            wall = time.perf_counter() - began
            assert str(run.state) == "success", {
                t.task_id: t.state for t in run.get_task_instances()
            }
            tasks = len(run.get_task_instances())
            if n:
                walls.append(wall)
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}".orders_0').scalar()
        assert rows == 10, rows
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        shutil.rmtree(home, ignore_errors=True)
    per_stream = tasks / args.streams
    imports = import_seconds(args.imports)
    wall = statistics.median(walls)
    print(f"streams: {args.streams}, tasks per stream: {per_stream:g}, rounds: {args.rounds}")
    print(f"dag.test() per stream:          median {wall / args.streams:6.3f} s"
          f"  (min {min(walls) / args.streams:.3f}, run {wall:.3f} s)")  # fmt: skip
    print(f"imports of one task process:    median {imports:6.3f} s")
    print(f"process starts per stream:      {per_stream:g} x {imports:.3f} = "
          f"{per_stream * imports:6.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
