"""Every request the offline planner accepts runs on the embedded default target.

Each distinct spec the planner gives for the corpus (both parts, never looked at case by
case) is typed and saved as `dagsmith build` saves it, and run as `dagsmith run` runs it:
from a project folder holding sources generated from the corpus's profiles, with no
target, so into that folder's `.dagsmith/warehouse.duckdb`, each as its first run there.
The table, `schema.table` included, must hold the columns and the number of rows that an
independent reading of the spec over the generated rows gives.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from agent.orchestrator.tools import SAMPLE_ROWS, column_types
from agent.planner import Facts, plan
from agent.planner.chat import _typed as type_stream
from agent.planner.chat import facts_of
from agent.workspace import relocate
from connectors.connections import EMBEDDED_PATH
from connectors.loaders.duckdb import qualify
from connectors.loaders.prepare import split_table
from connectors.profiling import Profile, profile
from connectors.profiling.resolve import Request, context, resolve
from connectors.project_file import SPECS_DIR
from connectors.runner import run_pipeline
from connectors.spec import AllOf, AnyOf, Condition, Pipeline, dump_spec, load_spec, spec_hash
from connectors.spec.io import to_plain
from connectors.spec.models import Stream
from tests.agent.corpus.score import CORPUS, load

ROWS = 40
"""Rows of each generated source."""
WORKERS = 2
"""Processes sharing the rounds, each in its own project folder. Measured on the 2-core
machine for the ~600 specs: 69 s one spec per warehouse in one process, 43 s in rounds on
two processes (while other tests were running)."""

Row = dict[str, Any]
Sources = dict[str, list[Row]]
"""The generated rows of each source, by its path in the project."""


def _value(name: str, type_: str, values: list[str], row: int, position: int) -> Any:
    """The value of one cell: a function of the column's profile and the row's number.

    The first column is the source's id: never null, and every 13th row repeats the id
    before it, so dedupe and upsert have duplicates to fold. Every other column is null in
    about one row of nine (in different rows), so `required`, `fill` and null tests bite.
    """
    if position == 0:
        return row if row % 13 else row - 1
    if (row + 3 * position) % 9 == 0:
        return None
    if values:
        return values[row % len(values)]
    match type_:
        case "bigint":
            # Crosses the corpus's thresholds (5, 10, 20, 50, 100), landing on some of them.
            return (row * 7) % 130
        case "double":
            return (row * 37) % 2100 / 10 + 0.25
        case "timestamp":
            return (datetime(2024, 3, 1) + timedelta(hours=row)).strftime("%Y-%m-%d %H:%M:%S")
        case "string" if "email" in name:
            return f"user{row}@example.com"
        case "string":
            return f"{name} {row}"
    raise AssertionError(f"no generator for column {name!r} of type {type_!r}")


def _sources() -> Sources:
    document = json.loads(CORPUS.read_text(encoding="utf-8"))
    return {
        path: [
            {
                c["name"]: _value(c["name"], c["type"], c["values"], row, position)
                for position, c in enumerate(columns)
            }
            for row in range(1, ROWS + 1)
        ]
        for path, columns in document["profiles"].items()
    }


def _write(project: Path, sources: Sources) -> None:
    """Each source as a file in the format its extension names."""
    for name, rows in sources.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as out:
            if path.suffix == ".csv":
                writer = csv.DictWriter(out, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)  # a null is an empty field, which reads as null
            elif path.suffix == ".json":
                json.dump(rows, out, indent=1)
            elif path.suffix == ".jsonl":
                out.writelines(json.dumps(row) + "\n" for row in rows)
            else:
                raise AssertionError(f"no writer for {path}")


def _profiles(project: Path, paths: list[str]) -> dict[str, Profile]:
    """Each source profiled as the agent's profile_source and infer_schema tools do."""
    ctx = context(project)
    found = {}
    for path in paths:
        resolved = resolve(Request(path), ctx)
        found[path] = profile(resolved.spec, ctx, rows=SAMPLE_ROWS, findings=resolved.findings)
    return found


def _families(columns: Facts) -> dict[str, str]:
    """Each column's kind of type: CSV's profiler sees `integer` and `decimal(18,4)` where
    the corpus's profiles say `bigint` and `double`."""
    kinds = {"integer": "bigint", "decimal": "double"}
    return {name: kinds.get(c.type.split("(")[0], c.type) for name, c in columns.items()}


def _typed(spec: Pipeline, profiles: dict[str, Profile]) -> Pipeline:
    """The spec as `dagsmith build` saves it: typed by the offline agent's infer_schema step."""
    document = to_plain(spec)
    for stream in document["streams"]:
        rename = stream.get("transform", {}).get("rename", {})
        type_stream(stream, column_types(profiles[stream["source"]["path"]], rename))
    return Pipeline.model_validate(document)


def _planned(text: str, facts: dict[str, Facts]) -> Pipeline | None:
    """The spec for a request as the offline agent plans it: once to find the sources,
    again with their profiles (as tests/agent/corpus/score.py does)."""
    first = plan(text)
    known = {s["source"]: facts[s["source"]] for s in first.sources if s.get("source") in facts}
    return plan(text, None, known).spec


def _keeps(rule: Any, row: Row) -> bool:
    """Whether a filter keeps a row: a null fails every test but is_null, as in SQL."""
    if isinstance(rule, AllOf):
        return all(_keeps(child, row) for child in rule.all)
    if isinstance(rule, AnyOf):
        return any(_keeps(child, row) for child in rule.any)
    assert isinstance(rule, Condition), rule
    value, wanted = row[rule.column], rule.value
    if rule.op in ("is_null", "is_not_null"):
        return (value is None) == (rule.op == "is_null")
    if value is None:
        return False
    tests = {
        "=": lambda: value == wanted,
        "!=": lambda: value != wanted,
        "<": lambda: value < wanted,
        "<=": lambda: value <= wanted,
        ">": lambda: value > wanted,
        ">=": lambda: value >= wanted,
        "in": lambda: value in wanted,
        "not_in": lambda: value not in wanted,
        "between": lambda: wanted[0] <= value <= wanted[1],
    }
    return bool(tests[rule.op]())


def _expected(stream: Stream, rows: list[Row]) -> tuple[int, set[str]]:
    """The rows and columns the stream's table holds after its first run."""
    rule, keys = stream.transform, stream.load.keys
    shaped = []
    for source in rows:
        row = {rule.rename.get(name, name): value for name, value in source.items()}
        row |= {c: v for c, v in rule.fill.items() if row[c] is None}
        if rule.filter is not None and not _keeps(rule.filter, row):
            continue
        if any(row[c] is None for c in [*rule.required, *keys]):
            continue  # rejected
        shaped.append(row)
    folded = [*keys, *(rule.dedupe.keys if rule.dedupe else [])]
    count = len({tuple(row[c] for c in folded) for row in shaped}) if folded else len(shaped)
    columns = set(rule.select or [rule.rename.get(n, n) for n in rows[0]]) - set(rule.drop)
    return count, columns


def _tables(database: Path) -> dict[str, tuple[int, set[str]]]:
    """The row count and columns of each table in a DuckDB file, by `schema.table`."""
    if not database.is_file():
        return {}  # every load failed before it opened the file
    with closing(duckdb.connect(str(database), read_only=True)) as conn:
        columns: dict[str, set[str]] = {}
        for schema, name, column in conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
        ).fetchall():
            columns.setdefault(f"{schema}.{name}", set()).add(column)
        found = {}
        for table, names in columns.items():
            (count,) = conn.execute(
                f"SELECT COUNT(*) FROM {qualify(*split_table(table))}"
            ).fetchone() or (0,)
            found[table] = (int(count), names)
        return found


def _run(spec: Pipeline) -> list[str]:
    """Save the spec as `dagsmith build` does and run it as `dagsmith run` does, from the cwd."""
    project = Path.cwd()
    spec_path = project / SPECS_DIR / f"{spec.pipeline}.yaml"
    spec_path.parent.mkdir(exist_ok=True)
    spec_path.write_text(dump_spec(relocate(spec, project, spec_path.parent)), "utf-8")
    summary = run_pipeline(load_spec(spec_path), base_dir=spec_path.resolve().parent)
    return [f"stream {r.stream}: {r.error}" for r in summary.streams if r.error is not None]


def _rounds(specs: list[tuple[str, Pipeline]]) -> list[list[tuple[str, Pipeline]]]:
    """The specs in rounds that load different tables, so that one new warehouse serves a
    round and each spec's run is still the first on its tables."""
    rounds: list[tuple[set[str], list[tuple[str, Pipeline]]]] = []
    for text, spec in specs:
        tables = {stream.load.table for stream in spec.streams}
        free = next((r for r in rounds if not r[0] & tables), None)
        if free is None:
            rounds.append(free := (set(), []))
        free[0].update(tables)
        free[1].append((text, spec))
    return [specs for _, specs in rounds]


def _run_rounds(
    project: Path, rounds: list[list[tuple[str, Pipeline]]], sources: Sources
) -> list[str]:
    """Run each round on a new embedded target in `project`; what went wrong, by request."""
    os.chdir(project)  # a process of its own: `dagsmith run` finds the project in the cwd
    database = project / EMBEDDED_PATH
    failures = []
    for specs in rounds:
        errors = {text: _run(spec) for text, spec in specs}
        tables = _tables(database)
        for text, spec in specs:
            for stream in spec.streams:
                schema, name = split_table(stream.load.table)
                found = tables.get(f"{schema or 'main'}.{name}")
                expected = _expected(stream, sources[stream.source.path])
                if found is None:
                    errors[text].append(f"no table {stream.load.table}")
                elif found != expected:
                    errors[text].append(
                        f"{stream.load.table} holds (rows, columns) {found}, expected {expected}"
                    )
            failures += [f"{text!r}: {error}" for error in errors[text]]
        for leftover in database.parent.glob(f"{database.name}*"):
            leftover.unlink()
    return failures


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Sources]:
    """A project folder holding the generated sources."""
    project = tmp_path_factory.mktemp("corpus")
    sources = _sources()
    _write(project, sources)
    return project, sources


@pytest.mark.slow
def test_every_spec_the_planner_gives_runs_on_the_embedded_target(
    corpus_project: tuple[Path, Sources],
) -> None:
    started = time.perf_counter()
    project, sources = corpus_project
    facts, cases = load()
    profiles = _profiles(project, list(sources))
    assert {path: _families(facts_of(found)) for path, found in profiles.items()} == {
        path: _families(columns) for path, columns in facts.items()
    }, "the generated sources do not profile as the corpus's profiles"
    specs: dict[str, tuple[str, Pipeline]] = {}
    for case in cases:
        if (spec := _planned(case["text"], facts)) is not None:
            spec = _typed(spec, profiles)
            # Told apart by what a run does: the description, schedule, retries and alerts,
            # which make nearly every spec distinct, do not reach `dagsmith run`.
            runs = Pipeline(pipeline="corpus", streams=spec.streams, target=spec.target)
            specs.setdefault(spec_hash(runs), (case["text"], spec))
    rounds = _rounds(list(specs.values()))
    shares = [rounds[n::WORKERS] for n in range(WORKERS)]
    folders = [project / f"worker_{n}" for n in range(WORKERS)]
    for folder in folders:
        _write(folder, sources)
    spawn = multiprocessing.get_context("spawn")  # a fork would copy this process's threads
    with ProcessPoolExecutor(WORKERS, mp_context=spawn) as pool:
        shared = pool.map(_run_rounds, folders, shares, [sources] * WORKERS)
        failures = [failure for share in shared for failure in share]
    print(f"{len(specs)} distinct specs ran in {time.perf_counter() - started:.1f} s")
    assert not failures, f"{len(failures)} of {len(specs)} specs failed:\n" + "\n".join(failures)
    assert len(specs) >= 500, "the corpus gave fewer distinct specs than it did (604)"


@pytest.mark.parametrize(
    "text",
    [
        "load data/orders.csv into orders, keep only the columns order_id and status, "
        "where amount > 20",
        "load data/orders.csv into raw.orders, only order_id and email, where amount between "
        "5 and 10",
    ],
)
def test_a_filter_on_a_column_left_out_compares_its_values_as_typed(
    corpus_project: tuple[Path, Sources], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    # A CSV column is text until typed: the filter's column must be typed too, or `> 20`
    # compares text and keeps "3.95".
    project, sources = corpus_project
    facts, _ = load()
    spec = _planned(text, facts)
    assert spec is not None
    spec = _typed(spec, _profiles(project, ["data/orders.csv"]))
    assert spec.streams[0].transform.filter is not None
    folder = project / "filter_left_out"
    _write(folder, sources)
    monkeypatch.chdir(folder)
    assert _run_rounds(folder, [[(text, spec)]], sources) == []
