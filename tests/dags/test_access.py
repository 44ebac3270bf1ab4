"""The spec's `owner`, `tags` and `access` reach the DAG Airflow imports, as data only."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.dags.checks import check_source
from agent.dags.render import render
from connectors.spec import Pipeline, parse_spec
from tests.dags.airflow_helpers import deploy, unique

SPEC = """
pipeline: {name}
owner: Sales Data, ops@example.com
tags: [sales, tier-1]
access:
  sales_analyst: [read]
  sales_engineer: [trigger, edit]
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: orders}}
"""


@pytest.mark.usefixtures("airflow_db")
def test_airflow_carries_the_owner_tags_and_role_permissions(tmp_path: Path) -> None:
    dag = deploy(tmp_path, SPEC.format(name=unique("access")))
    assert dag.owner == "Sales Data, ops@example.com"
    assert all(task.owner == "Sales Data, ops@example.com" for task in dag.tasks)
    assert set(dag.tags) == {"dagsmith", "sales", "tier-1"}
    assert {role: {k: set(v) for k, v in r.items()} for role, r in dag.access_control.items()} == {
        "sales_analyst": {"DAGs": {"can_read"}},
        "sales_engineer": {"DAGs": {"can_edit", "can_read"}, "DAG Runs": {"can_create"}},
    }


def test_without_access_the_dag_leaves_permissions_to_the_roles() -> None:
    spec = parse_spec(SPEC.format(name="p")).model_copy(update={"access": {}})
    text = render(spec, Path("pipelines/p.yaml"), Path("dags")).text
    assert "access_control" not in text
    assert "'owner': 'Sales Data, ops@example.com'," in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("owner", "x'); import os; os.system('id'); ('"),
        ("owner", "team\nroot"),
        ("owner", "<script>"),
        ("owner", ""),
        ("tags", ["a'b"]),
        ("tags", ["{{ var.value.secret }}"]),
        ("access", {"analyst'); x=('": ["read"]}),
        ("access", {"analyst": ["admin"]}),
        ("access", {"analyst": []}),
    ],
)
def test_hostile_owner_tags_and_roles_are_refused_with_their_field(
    field: str, value: object
) -> None:
    plain = parse_spec(SPEC.format(name="p")).model_dump(mode="json")
    with pytest.raises(ValidationError, match=field):
        Pipeline.model_validate({**plain, field: value})


def test_a_hostile_value_that_bypasses_validation_still_renders_as_a_literal() -> None:
    # Defence in depth: the template prints every value through `literal`, so even a spec
    # built without validation cannot put code into the DAG.
    hostile = "x'], __import__('os').system('id'), ['"
    spec = parse_spec(SPEC.format(name="p")).model_copy(
        update={"owner": hostile, "tags": [hostile], "access": {hostile: ["read"]}}
    )
    text = render(spec, Path("pipelines/p.yaml"), Path("dags")).text
    assert check_source(text) == []
    assert f"tags=['dagsmith', {hostile!r}]," in text
    assert f"'owner': {hostile!r}," in text
