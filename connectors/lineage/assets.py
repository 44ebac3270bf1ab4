"""The Airflow Assets of a generated DAG: each stream's inlets and outlets, and its upstream.

Assets are named by the URIs of the datasets the stream's OpenLineage events name
(`datasets`, `DatasetName.uri`), so Airflow's asset graph, its OpenLineage provider and
dagsmith's own events speak of one dataset. They are resolved when Airflow parses the DAG
file, from the connections of the deployment that parses it: a target's host and port are
not in the DAG file, which stays the same in every environment. A connection the parser
cannot see leaves that asset out with a warning (the tasks still run, and their events
still name it); an upstream output cannot be left out, as the DAG would never run.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors import dagfile
from connectors.airflow_context import asking_airflow
from connectors.connections import resolve_target
from connectors.errors import DagsmithError
from connectors.lineage import datasets
from connectors.lineage.names import DatasetName
from connectors.spec.models import Pipeline

if TYPE_CHECKING:
    from airflow.sdk import Asset

log = logging.getLogger("dagsmith")

Upstream = dict[str, Any]
"""One output a DAG runs after, as rendered: `{"uri": ...}`, or the stream of another
pipeline, `{"pipeline", "stream", "target", "table"}` (`target`: its connection id or None)."""


def inlets(spec_json: str, stream: str, *, dag_file: str, spec_dir: str) -> list[Asset]:
    """The datasets the stream's source reads."""
    reading = _spec(spec_json).stream(stream)
    project = dagfile.project_dir(dag_file)
    names = _resolved(
        f"the source of {stream!r}",
        lambda: datasets.source(
            reading,
            dagfile.base_dir(dag_file, spec_dir),
            datasets.source_connection(reading, project),
        ),
    )
    return _assets(names)


def outlets(spec_json: str, stream: str, *, dag_file: str) -> list[Asset]:
    """The table the stream loads."""
    spec = _spec(spec_json)
    table = spec.stream(stream).load.table
    project = dagfile.project_dir(dag_file)
    names = _resolved(f"the target of {stream!r}", lambda: (_table(spec.target, table, project),))
    return _assets(names)


def after(upstream: list[Upstream], *, dag_file: str) -> list[Asset]:
    """The schedule of a DAG that runs once each upstream output has new data."""
    from airflow.sdk import Asset  # Airflow (and its Jinja) only where a DAG file is parsed

    project = dagfile.project_dir(dag_file)
    with asking_airflow():
        return [
            Asset(item["uri"])
            if "uri" in item
            else _asset(_table(item["target"], item["table"], project))
            for item in upstream
        ]


def _table(target: str | None, table: str, project: Path) -> DatasetName:
    return datasets.table(resolve_target(target, project, create=False).url, table)


def _resolved(what: str, names: Callable[[], tuple[DatasetName, ...]]) -> tuple[DatasetName, ...]:
    """The names, looked up through Airflow's connections too; none when one cannot be
    named (a connection missing, a path the system refuses): lineage never fails a parse."""
    try:
        with asking_airflow():
            return names()
    except (DagsmithError, ValueError, OSError) as exc:
        log.warning("lineage: no Airflow asset for %s: %s", what, exc)
        return ()


def _assets(names: tuple[DatasetName, ...]) -> list[Asset]:
    return [_asset(name) for name in names]


def _asset(name: DatasetName) -> Asset:
    from airflow.sdk import Asset

    return Asset(name.uri)


@functools.cache
def _spec(spec_json: str) -> Pipeline:
    """The embedded spec, validated once per DAG file parse (every task asks)."""
    return Pipeline.model_validate_json(spec_json)
