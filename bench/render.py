"""Render and check benchmark: time a spec's render + check, and a DagBag parse of its DAG.

Airflow's own start-up (importing airflow, configuring it) is measured apart and left
out of both numbers, as the targets say: render + check under 1 s, a DagBag parse of
one generated file under 0.2 s.

    python bench/render.py [--spec examples/orders.yaml] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "examples" / "orders.yaml")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="dagsmith-bench-airflow-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

    started = time.perf_counter()
    from airflow.dag_processing.dagbag import DagBag

    from agent.dags.dagfiles import check_pipelines, render_all, write_dags

    startup = time.perf_counter() - started
    out = Path(tempfile.mkdtemp(prefix="dagsmith-bench-dags-"))
    render_check, parse = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        dags = render_all([args.spec], out)
        write_dags(dags)
        results = check_pipelines([args.spec], out)
        render_check.append(time.perf_counter() - started)
        assert all(not r.problems for r in results), [r.problems for r in results]
        started = time.perf_counter()
        bag = DagBag(dag_folder=out, safe_mode=False, load_op_links=False, bundle_path=out)
        parse.append(time.perf_counter() - started)
        assert not bag.import_errors and len(bag.dags) == 1, bag.import_errors

    print(f"Airflow start-up (excluded):   {startup:6.2f} s")
    for label, times, target in (
        ("render + write + check", render_check, "1 s"),
        ("DagBag parse of the DAG", parse, "0.2 s"),
    ):
        print(
            f"{label:24} median {statistics.median(times):6.3f} s, first {times[0]:6.3f} s"
            f"  (target < {target})"
        )


if __name__ == "__main__":
    main()
