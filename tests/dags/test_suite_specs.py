"""Every spec the test suite uses also renders into a DAG that Airflow imports as planned."""

from __future__ import annotations

from pathlib import Path

from agent.dags.checks import structure_problems
from agent.dags.dagfiles import import_texts
from agent.dags.render import render
from connectors.spec import Pipeline, load_spec, parse_spec
from tests import test_incremental, test_object_storage, test_spec
from tests.conftest import Database
from tests.dags import test_render

ROOT = Path(__file__).resolve().parents[2]


def _suite_specs() -> list[Pipeline]:
    scratch = Database(url=None, schema="t_scratch", engine=None)  # type: ignore[arg-type]
    specs = [load_spec(path) for path in sorted((ROOT / "examples").glob("*.yaml"))]
    specs += [parse_spec(text) for text in (test_spec.FULL, test_render.SPEC)]
    specs.append(parse_spec(test_object_storage._spec("t_scratch", "s3://exports/*.csv")))
    for mode, extra in (("append", ""), ("upsert", ", lag: 2h")):
        specs.append(parse_spec(test_incremental._spec(scratch, mode=mode, extra=extra)))
    return specs


def test_every_suite_spec_renders_and_imports_with_its_tasks(tmp_path: Path) -> None:
    specs = _suite_specs()
    problems = []
    for spec in specs:  # one DagBag each: several suite specs share a DAG id
        dag = render(spec, ROOT / "examples" / f"{spec.pipeline}.yaml", tmp_path)
        (report,) = import_texts([(dag.path, dag.text)])
        problems += [f"{spec.pipeline}: {p}" for p in structure_problems(report, spec)]
    assert len(specs) >= 6
    assert problems == []
