"""Build benchmark: `dagsmith build` with the offline planner over a large CSV.

Generates N rows x 10 columns (as bench/load.py does), then times the whole command —
profile, spec, render, Airflow check and a dry run on a 200-row sample — in a scratch
project. The agent samples the source, so the time must not grow with it: the run is
repeated for two sizes to show that.

    python bench/build.py                       # 1,000,000 and 3,000,000 rows
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import generate  # a sibling script, not a package


def build(project: Path, csv: Path) -> float:
    """Seconds for one `dagsmith build` of a pipeline over `csv`."""
    sentence = f"load {csv} into table bench_rows, append"
    argv = [str(Path(sys.executable).with_name("dagsmith")), "build", sentence, "--yes"]
    env = {**os.environ}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build failed:\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 3_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dagsmith-bench-build-") as tmp:
        project = Path(tmp)
        build(project, _csv(project, 100))  # warm-up: bytecode and Airflow's first import
        for rows in args.rows:
            csv = _csv(project, rows)
            seconds = build(project, csv)
            size = csv.stat().st_size / 1e6
            print(
                f"{rows:>10,} rows ({size:5.0f} MB): dagsmith build {seconds:5.2f} s (target < 5 s)"
            )


def _csv(project: Path, rows: int) -> Path:
    path = project / f"rows_{rows}.csv"
    generate(path, rows, seed=3)
    return path


if __name__ == "__main__":
    main()
