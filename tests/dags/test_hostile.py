"""Hostile names and values reach a generated DAG only as literals, and Airflow takes them
as data: 250 generated specs render, pass the allow-list, round-trip equal, and import."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.dags.checks import check_source, import_dags, module_literals, structure_problems
from agent.dags.render import render
from connectors.spec import Pipeline

SNIPPETS = [
    "'", '"', "'''", '"""', "\\", "\\'", "\n", "\r\n", "\t", "\x00", "#", ")", "]}", "\\N{",
    "{{ 7 * 7 }}", "{{ var.value.secret }}", "{% for x in range(3) %}x{% endfor %}", "{# c #}",
    "__import__('os').system('id')", "'); import os; os.system('id'); ('", '"""; exit() """',
    "\u202e", "\u2066", "\u2067", "\u2069", "\u200f", "\u2028", "\u2029", "\ufeff", "é", "日本",
    "readme.md", "${HOME}", "$(id)", "`id`", "<script>",
]  # fmt: skip

hostile = (
    st.lists(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=8)), min_size=1, max_size=6)
    .map("".join)
    .filter(bool)
)
names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
idents = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
tags = st.from_regex(r"[A-Za-z0-9_.éß-]{1,20}", fullmatch=True)
# The spec refuses quotes and control characters in an owner (tests/dags/test_access.py).
owners = st.from_regex(r"[A-Za-z0-9_é][A-Za-z0-9_é .,@+-]{0,30}", fullmatch=True)


@st.composite
def specs(draw: st.DrawFn) -> Pipeline:
    """A valid spec whose free-text fields hold hostile values."""
    stream_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    streams = [
        {
            "name": name,
            "source": {"kind": "csv", "path": draw(hostile), "null_values": [draw(hostile)]},
            "transform": {
                "rename": draw(
                    st.dictionaries(hostile.filter(lambda k: len(k) <= 255), idents, max_size=3)
                ),
                "fill": {draw(idents): draw(hostile)},
                "ranges": {draw(idents): {"allowed": [draw(hostile)]}},
            },
            "load": {"table": f"t_{i}"},
        }
        for i, name in enumerate(stream_names)
    ]
    return Pipeline.model_validate(
        {
            "pipeline": draw(names),
            "description": draw(hostile)[:2000],
            "owner": draw(owners),
            "tags": draw(st.lists(tags, max_size=3)),
            "streams": streams,
        }
    )


def dag_keywords(text: str) -> dict[str, Any]:
    """The literal keyword arguments of the `@dag(...)` decorator."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            call = node.decorator_list[0]
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "dag":
                return {
                    kw.arg: ast.literal_eval(kw.value)
                    for kw in call.keywords
                    if kw.arg in {"dag_id", "description", "tags", "schedule"}
                }
    raise AssertionError("no @dag decorator")


@pytest.mark.usefixtures("airflow_db")
def test_hostile_values_reach_the_dag_only_as_literals(tmp_path: Path) -> None:
    rendered: dict[str, Pipeline] = {}

    @settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(spec=specs())
    def case(spec: Pipeline) -> None:
        # Unique DAG ids, so that one DagBag imports every case (the names are not hostile:
        # a pipeline name is a validated identifier).
        spec = spec.model_copy(update={"pipeline": f"case_{len(rendered)}"})
        dag = render(spec, Path("pipelines/p.yaml"), Path("dags"))
        assert render(spec, Path("pipelines/p.yaml"), Path("dags")).text == dag.text
        assert check_source(dag.text) == []
        constants = module_literals(dag.text)
        assert Pipeline.model_validate_json(constants["SPEC"]) == spec
        assert spec.description in constants["DOC_MD"]
        keywords = dag_keywords(dag.text)
        assert keywords["tags"] == ["dagsmith", *spec.tags]
        assert keywords["dag_id"] == spec.pipeline
        (tmp_path / dag.path.name).write_text(dag.text, encoding="utf-8")
        rendered[dag.path.name] = spec

    case()
    assert len(rendered) >= 200
    reports = import_dags(tmp_path.resolve())
    for name, spec in rendered.items():
        assert structure_problems(reports[tmp_path.resolve() / name], spec) == [], name
