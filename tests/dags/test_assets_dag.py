"""Airflow Assets: a generated DAG's extract reads its source's datasets and its load writes
its table, named by the same URIs as the OpenLineage events; a spec can run after another
pipeline's output (`schedule: {after: [pipeline.stream]}` or an Asset URI), and a load in
the first DAG queues a run of the second."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.dags.dagfiles import render_all, write_dags
from agent.dags.render import RenderError, render, upstream
from connectors.dagfile import PROJECT_DIR_ENV
from connectors.lineage.names import DatasetName
from connectors.spec import load_spec, parse_spec
from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, run, unique
from tests.dags.conftest import DAGS_FOLDER
from tests.lineage.receiver import receiver

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

ORDERS = "order_id,amount\n1,10.5\n2,3\n"


@pytest.fixture
def project(tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose `warehouse` connection is the test's PostgreSQL; no OpenLineage."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    monkeypatch.setenv(PROJECT_DIR_ENV, str(tmp_path))
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        monkeypatch.delenv(name)
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    (tmp_path / "pipelines" / "data" / "orders.csv").write_text(ORDERS)
    return tmp_path


def uris(assets: list[Any]) -> list[str]:
    return [asset.uri for asset in assets]


def event_uri(dataset: dict[str, Any]) -> str:
    """The URI of an OpenLineage event's dataset, by the same naming rules."""
    name = dataset["name"]
    parts = tuple(name.split(".")) if "://" in dataset["namespace"] else ()
    return DatasetName(dataset["namespace"], name, parts).uri


def test_the_tasks_declare_the_datasets_of_the_lineage_events(
    project: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag_id = unique("assets")
    dag = deploy(
        project,
        f"""
pipeline: {dag_id}
target: warehouse
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: {postgres.schema}.orders}}
""",
    )
    task = dag.get_task("stream_orders")
    source = project / "pipelines" / "data" / "orders.csv"
    table = f"postgres://127.0.0.1:5432/test/{postgres.schema}/orders"
    assert uris(task.inlets) == [f"file://{source}"]
    assert uris(task.outlets) == [table]

    with receiver() as got:
        monkeypatch.setenv("OPENLINEAGE_URL", got.url)
        state, _ = run(dag)
        complete = got.wait_for(2)[-1]
    assert state == "success"
    assert [event_uri(d) for d in complete["inputs"]] == uris(task.inlets)
    assert [event_uri(d) for d in complete["outputs"]] == uris(task.outlets)


def test_a_load_queues_the_pipeline_that_runs_after_it(project: Path, postgres: Database) -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    first, second = unique("upstream"), unique("downstream")
    schema = postgres.schema
    folder = project / "pipelines"
    (folder / "first.yaml").write_text(
        f"""
pipeline: {first}
target: warehouse
retries: {{count: 0}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: {schema}.orders}}
"""
    )
    (folder / "second.yaml").write_text(
        f"""
pipeline: {second}
target: warehouse
schedule: {{after: [{first}.orders]}}
streams:
  - name: big
    source: {{kind: sql, connection: warehouse, query: "select * from {schema}.orders"}}
    load: {{table: {schema}.big_orders}}
"""
    )
    dags = render_all([folder / "first.yaml", folder / "second.yaml"], DAGS_FOLDER)
    write_dags(dags)
    bag = DagBag(dag_folder=DAGS_FOLDER, safe_mode=False, load_op_links=False)
    upstream, downstream = bag.dags[first], bag.dags[second]
    # As the scheduler would find them; a new DAG starts paused, and a paused one is not queued.
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    with create_session() as session:
        session.query(DagModel).filter_by(dag_id=second).update({"is_paused": False})
    (table,) = uris(upstream.get_task("stream_orders").outlets)
    assert [a.uri for a in downstream.timetable.asset_condition.objects] == [table]
    assert uris(downstream.get_task("stream_big").inlets) == [table]

    state, _ = run(upstream)

    assert state == "success"
    with create_session() as session:
        asset = session.query(AssetModel).filter(AssetModel.uri == table).one()
        events = session.query(AssetEvent).filter(AssetEvent.asset_id == asset.id).all()
        queued = session.query(AssetDagRunQueue).filter_by(target_dag_id=second).all()
    assert [e.source_dag_id for e in events] == [first]
    assert [q.asset_id for q in queued] == [asset.id]


def test_an_asset_uri_schedules_as_written(project: Path) -> None:
    dag = deploy(
        project,
        f"""
pipeline: {unique("by_uri")}
schedule: {{after: ["s3://landing/orders.csv", "postgres://db.internal:5432/erp/public/orders"]}}
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: orders}}
""",
    )
    assert [a.uri for a in dag.timetable.asset_condition.objects] == [
        "s3://landing/orders.csv",
        "postgres://db.internal:5432/erp/public/orders",
    ]
    # The embedded default is a DuckDB file of the project.
    (outlet,) = dag.get_task("stream_orders").outlets
    assert outlet.uri == f"duckdb:{project}/.dagsmith/warehouse.duckdb/warehouse/main/orders"


def test_a_source_connection_the_parser_cannot_see_leaves_its_asset_out(
    project: Path,
) -> None:
    spec = f"""
pipeline: {unique("unseen")}
streams:
  - name: users
    source: {{kind: rest, connection: nowhere_api, endpoint: /users}}
    load: {{table: users}}
"""
    said = Said()
    # On the logger itself: importing a DAG reconfigures the root logger's handlers.
    logging.getLogger("dagsmith").addHandler(said)
    try:
        dag = deploy(project, spec)
    finally:
        logging.getLogger("dagsmith").removeHandler(said)
    assert dag.get_task("stream_users").inlets == []
    assert len(dag.get_task("stream_users").outlets) == 1
    assert "no Airflow asset for the source of 'users'" in said.text
    assert "AIRFLOW_CONN_NOWHERE_API" in said.text


class Said(logging.Handler):
    """What was logged, as text."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.text += self.format(record) + "\n"


def test_an_upstream_is_found_by_its_pipeline_name_or_refused_clearly(project: Path) -> None:
    folder = project / "pipelines"
    (folder / "a.yaml").write_text(
        "pipeline: sales\nstreams:\n  - name: orders\n    source: {kind: csv, path: x.csv}\n"
        "    load: {table: orders}\n"
    )
    (folder / "broken.yaml").write_text("pipeline: [not, a, spec]\n")
    (folder / "b.yaml").write_text(
        "pipeline: report\nschedule: {after: [sales.orders, sales.refunds]}\nstreams:\n"
        "  - name: r\n    source: {kind: csv, path: x.csv}\n    load: {table: r}\n"
    )
    with pytest.raises(RenderError, match=r"'sales.refunds': no stream 'refunds'; streams: orders"):
        render(load_spec(folder / "b.yaml"), folder / "b.yaml", DAGS_FOLDER)
    (folder / "b.yaml").write_text(
        (folder / "b.yaml").read_text().replace("sales.refunds", "finance.refunds")
    )
    with pytest.raises(RenderError, match=r"defines pipeline 'finance' \(pipelines there: sales\)"):
        render(load_spec(folder / "b.yaml"), folder / "b.yaml", DAGS_FOLDER)
    (folder / "b.yaml").write_text((folder / "b.yaml").read_text().replace("finance", "sale"))
    with pytest.raises(RenderError) as typo:
        render(load_spec(folder / "b.yaml"), folder / "b.yaml", DAGS_FOLDER)
    assert typo.value.hint is not None and typo.value.hint.startswith("did you mean 'sales'?")


def test_a_pipeline_named_alone_is_each_of_its_streams(project: Path) -> None:
    folder = project / "pipelines"
    (folder / "sales.yaml").write_text(
        "pipeline: sales\ntarget: warehouse\nstreams:\n"
        "  - {name: orders, source: {kind: csv, path: o.csv}, load: {table: s.orders}}\n"
        "  - {name: refunds, source: {kind: csv, path: r.csv}, load: {table: refunds}}\n"
    )
    spec = parse_spec(
        "pipeline: report\nschedule: {after: [sales, sales.orders]}\nstreams:\n"
        "  - {name: r, source: {kind: csv, path: x.csv}, load: {table: r}}\n"
    )
    assert upstream(spec, folder) == [
        {"pipeline": "sales", "stream": "orders", "target": "warehouse", "table": "s.orders"},
        {"pipeline": "sales", "stream": "refunds", "target": "warehouse", "table": "refunds"},
    ]


def test_parsing_a_dag_loads_no_data_libraries(project: Path) -> None:
    dag = deploy(
        project,
        f"""
pipeline: {unique("parse")}
target: warehouse
streams:
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    load: {{table: orders}}
""",
    )
    code = (
        "import sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={dag.fileloc!r}, safe_mode=False, load_op_links=False)\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "print(sorted(m for m in ('pandas', 'duckdb', 'psycopg2', 'pymysql', 'requests')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
