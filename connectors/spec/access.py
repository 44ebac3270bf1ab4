"""Who owns a pipeline and who may see, trigger and edit its DAG (docs/deploy.md, access).

The values become the DAG's `owner`, `tags` and `access_control`: plain names, validated
here so a UI, a role list or a filter never meets markup, quotes or control characters.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

Owner = Annotated[
    str,
    Field(
        pattern=r"^\w[\w .,@+-]{0,99}$",
        description=(
            "Who answers for the pipeline: a team or a person (letters, digits, space and "
            "_ . , @ + -); Airflow shows it as the DAG's owner and filters on it."
        ),
    ),
]
DagTag = Annotated[str, Field(pattern=r"^[\w.-]{1,50}$")]
Role = Annotated[str, Field(pattern=r"^\w[\w .@-]{0,63}$")]
Permission = Literal["read", "trigger", "edit", "delete"]

ACCESS_DESCRIPTION = (
    "Airflow role -> what its members may do with this DAG: read (see it, its runs and "
    "code), trigger (start a run), edit (pause, clear, mark), delete. It becomes the DAG's "
    "`access_control`, which Airflow applies with the FAB auth manager only (docs/deploy.md); "
    "roles not listed keep the permissions their role gives on every DAG."
)

# Airflow's names: the "DAGs" resource holds read/edit/delete; starting a run is creating
# a "DAG Runs" entry.
_AIRFLOW = {
    "read": ("DAGs", "can_read"),
    "edit": ("DAGs", "can_edit"),
    "delete": ("DAGs", "can_delete"),
    "trigger": ("DAG Runs", "can_create"),
}


def access_control(access: dict[str, list[Permission]]) -> dict[str, dict[str, list[str]]]:
    """The spec's `access` as Airflow's `access_control`: role -> resource -> actions.

    A role that may trigger or edit may also read: Airflow shows no button on a DAG that
    the user cannot see.
    """
    control: dict[str, dict[str, list[str]]] = {}
    for role, permissions in access.items():
        wanted = {"read", *permissions}
        resources: dict[str, list[str]] = {}
        for permission in sorted(wanted):
            resource, action = _AIRFLOW[permission]
            resources.setdefault(resource, []).append(action)
        control[role] = {name: sorted(actions) for name, actions in sorted(resources.items())}
    return control
