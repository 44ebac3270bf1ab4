"""Start-up benchmark: how long `dagsmith` takes before and around a small piece of work.

Times, in alternating rounds of one run: `python -c pass` (the interpreter alone, the
reference), `dagsmith --help`, `dagsmith validate` and `dagsmith run` of a 10-row CSV into
SQLite, each a fresh process with its output piped (as in CI and Airflow). Prints each
command's median and best wall time, its difference to `python -c pass`, the target and
pass/fail, then per command the slowest imports of `python -X importtime` and the modules
its budget forbids that it imported. Exits 1 when a target or a budget is missed.

    python bench/startup.py [--rounds 7] [--top 8]

`tests/test_startup_imports.py` checks the same budgets (what is imported, never time).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))
# Never imported by any command below: the design-time stack and typer's shell completion
# (this app turns `--install-completion` off).
ANYWHERE = (
    "pandas",
    "langchain",
    "langchain_core",
    "jinja2",
    "airflow",
    "typer._completion_shared",
    "typer._completion_classes",
    "shellingham",
)
# What a run into SQLite does not use: rich off a terminal, the DuckDB driver, sqlglot
# (other databases' SQL), email_validator (no email alert), SQLAlchemy (SQLite loads through
# sqlite3 alone), tenacity (retries of a failed stream's record), croniter (no cron
# schedule), jsonpath_ng (no REST source), Parquet (nothing staged between Airflow phases).
NOT_FOR_A_SQLITE_RUN = (
    "rich",
    "duckdb",
    "sqlglot",
    "email_validator",
    "sqlalchemy",
    "tenacity",
    "croniter",
    "jsonpath_ng",
    "pyarrow.parquet",
)
BUDGETS: dict[str, tuple[str, ...]] = {
    "--help": (*ANYWHERE, "pyarrow", "sqlalchemy", "pydantic", "connectors.spec"),
    "validate": (*ANYWHERE, *NOT_FOR_A_SQLITE_RUN),
    "run": (*ANYWHERE, *NOT_FOR_A_SQLITE_RUN),
}
"""Command -> modules (and their submodules) it must not import."""
TARGETS = {"--help": 0.25, "run": 0.5}
"""Command -> most seconds of wall time over `python -c pass`."""
ROWS = 10
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$", re.MULTILINE)


def make_project(folder: Path) -> dict[str, str]:
    """A 10-row CSV, a spec loading it into SQLite, and the environment naming the target."""
    rows = "\n".join(f"{i},name {i},{i * 1.5},2024-01-{i:02d}" for i in range(1, ROWS + 1))
    (folder / "rows.csv").write_text(f"id,name,amount,day\n{rows}\n", encoding="utf-8")
    (folder / "startup.yaml").write_text(
        "pipeline: startup\ntarget: bench_sqlite\nstreams:\n"
        "  - name: rows\n    source: {kind: csv, path: rows.csv}\n"
        "    load: {table: rows, mode: append}\n",
        encoding="utf-8",
    )
    return {"AIRFLOW_CONN_BENCH_SQLITE": f"sqlite:///{folder / 'target.db'}"}


def commands() -> dict[str, list[str]]:
    """Label -> argv, the reference first."""
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "--help": [DAGSMITH, "--help"],
        "validate": [DAGSMITH, "validate", "startup.yaml"],
        "run": [DAGSMITH, "run", "startup.yaml"],
    }


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one process; it must succeed."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return took


def import_times(argv: list[str], cwd: Path, env: dict[str, str]) -> list[tuple[str, int, int]]:
    """(module, cumulative µs, depth) of each import of one run of `argv`, in import order."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return [
        (m.group(4), int(m.group(2)), len(m.group(3)) // 2)
        for m in _IMPORT_LINE.finditer(done.stderr)
    ]


def imported_at_exit(args: list[str], cwd: Path, env: dict[str, str]) -> set[str]:
    """The modules in `sys.modules` when `dagsmith ARGS` exits (a failed import is none)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as listing:
        code = (
            "import atexit, sys\n"
            f"atexit.register(lambda: open({listing.name!r}, 'w').write('\\n'.join(sys.modules)))\n"
            f"sys.argv = ['dagsmith', *{args!r}]\n"
            "from agent.cli.app import main\n"
            "main()\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"dagsmith {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return set(Path(listing.name).read_text().split())


def over_budget(imported: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The forbidden modules (or packages) of which `imported` holds one or a submodule."""
    return [f for f in forbidden if any(m == f or m.startswith(f + ".") for m in imported)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--top", type=int, default=8, help="Slowest imports shown per command.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dagsmith-bench-startup-"))
    env = {**os.environ, **make_project(folder)}
    argvs = commands()
    # Warm the file cache, and write the bytecode an installed package has (a setting of
    # PYTHONDONTWRITEBYTECODE would have every round compile dagsmith's own modules again).
    warm = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for argv in argvs.values():
        timed(argv, folder, warm)
    times: dict[str, list[float]] = {label: [] for label in argvs}
    for _ in range(args.rounds):
        for label, argv in argvs.items():
            times[label].append(timed(argv, folder, env))
    base = statistics.median(times["python -c pass"])
    failed = False
    print(f"{args.rounds} rounds; wall seconds; Δ = median minus `python -c pass` ({base:.3f} s)")
    print(f"{'command':16} {'median':>7} {'best':>7} {'Δ':>7}  target")
    for label, values in times.items():
        median = statistics.median(values)
        line = f"{label:16} {median:7.3f} {min(values):7.3f} {median - base:7.3f}"
        if label in TARGETS:
            ok = median - base <= TARGETS[label]
            failed |= not ok
            line += f"  Δ ≤ {TARGETS[label]} s: {'pass' if ok else 'FAIL'}"
        print(line)
    for label, forbidden in BUDGETS.items():
        found = import_times(argvs[label], folder, env)
        top = sorted((row for row in found if row[2] == 0), key=lambda row: -row[1])
        print(f"\n{label}: {len(found)} modules imported; slowest top-level imports (ms):")
        for module, micros, _ in top[: args.top]:
            print(f"  {micros / 1000:7.1f}  {module}")
        bad = over_budget(imported_at_exit(argvs[label][1:], folder, env), forbidden)
        failed |= bool(bad)
        verdict = f"FAIL, imported: {', '.join(bad)}" if bad else "pass"
        print(f"  budget ({len(forbidden)} modules not imported): {verdict}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
