"""Scale-out on a real distributed executor: a generated two-stream DAG on Airflow 3's
CeleryExecutor (Redis broker, PostgreSQL metadata database), two workers that share no disk,
staging on object storage (moto's S3 server). Its tasks land on both workers, and it leaves
exactly the rows, rejects and run records that `dagsmith run` of the same spec leaves.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import palmerpenguins
import pytest
import sqlalchemy as sa
import vega_datasets
from moto.server import ThreadedMotoServer

from tests.conftest import PG_URL
from tests.deploy.celery_stack import Stack, StackError, celery_stack
from tests.deploy.conftest import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, pytest.mark.timeout(300)]

DAG = "scale_out"
DATA = {
    "penguins.csv": Path(palmerpenguins.__file__).parent / "data" / "penguins.csv",
    "stocks.csv": Path(vega_datasets.__file__).parent / "_data" / "stocks.csv",
}
BUCKET = "staging"
KEY = ("AKIASCALEOUT", "scale-out-secret")


def spec(schema: str) -> str:
    """Two streams from public data sets: an append with rejects, an upsert on two keys."""
    return f"""\
pipeline: {DAG}
description: Penguins and stocks, across Celery workers
target: warehouse
retries: {{count: 1, delay: 2s, max_delay: 2s}}
streams:
  - name: penguins
    source: {{kind: csv, path: data/penguins.csv}}
    transform:
      types:
        bill_length_mm: "decimal(5,1)"
        bill_depth_mm: "decimal(5,1)"
        flipper_length_mm: bigint
        body_mass_g: bigint
        year: bigint
      required: [body_mass_g, sex]
    load: {{table: {schema}.penguins, mode: append}}
  - name: stocks
    source: {{kind: csv, path: data/stocks.csv}}
    transform:
      rename: {{price: close}}
      types: {{close: "decimal(10,2)"}}
    load: {{table: {schema}.stocks, mode: upsert, keys: [symbol, date]}}
"""


def project(folder: Path, schema: str) -> Path:
    """A project as a user lays it out: the spec and its data, and the DAG rendered from it."""
    (folder / "pipelines" / "data").mkdir(parents=True)
    for name, source in DATA.items():
        shutil.copy(source, folder / "pipelines" / "data" / name)
    (folder / "pipelines" / f"{DAG}.yaml").write_text(spec(schema))
    dagsmith(folder, {}, "render", f"pipelines/{DAG}.yaml", "--out", "dags")
    return folder


def dagsmith(cwd: Path, env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).with_name("dagsmith")), *args]
    done = subprocess.run(
        command, cwd=cwd, env={**clean_env(), **env}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def clean_env() -> dict[str, str]:
    """The caller's environment without its Airflow or dagsmith settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DAGSMITH_"))}


@pytest.fixture
def schemas() -> Iterator[tuple[str, str]]:
    """Two fresh schemas: one for Airflow's run, one for `dagsmith run`'s; dropped after."""
    engine = sa.create_engine(PG_URL)
    names = tuple(f"t_{uuid.uuid4().hex[:12]}" for _ in range(2))
    with engine.begin() as conn:
        for name in names:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield names[0], names[1]
    finally:
        with engine.begin() as conn:
            for name in names:
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        engine.dispose()


@pytest.fixture
def s3() -> Iterator[tuple[str, Any]]:
    """moto's S3 server on loopback, with a versioned bucket: deleted staging files stay
    visible as versions, so the test can see what went through object storage."""
    access_log = logging.getLogger("werkzeug")
    level = access_log.level
    access_log.setLevel(logging.WARNING)  # one line per S3 request buries a failure's report
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=KEY[0],
            aws_secret_access_key=KEY[1],
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        versioning = {"Status": "Enabled"}
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration=versioning)
        yield endpoint, client
    finally:
        server.stop()
        access_log.setLevel(level)


def worker_env(endpoint: str) -> dict[str, str]:
    """What a worker needs beyond Airflow: the warehouse connection, staging on S3."""
    return {
        "AIRFLOW_CONN_WAREHOUSE": PG_URL,
        "DAGSMITH_STAGING_URL": f"s3://{BUCKET}/dagsmith",
        "AWS_ACCESS_KEY_ID": KEY[0],
        "AWS_SECRET_ACCESS_KEY": KEY[1],
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def run_dag(stack: Stack) -> tuple[str, list[dict[str, Any]]]:
    """Trigger the DAG once it is parsed, wait for its run to end; its state and tasks."""
    deadline = time.monotonic() + 60
    while not stack.ready(f"dags/{DAG}"):
        stack.processes.check()
        errors = stack.get("importErrors").json()["import_errors"]
        if errors or time.monotonic() > deadline:
            raise StackError(f"{DAG} not parsed: {errors}\n{stack.processes.logs()}")
        time.sleep(0.5)
    posted = stack.post(f"dags/{DAG}/dagRuns", {"logical_date": None})
    run_id = posted["dag_run_id"]
    deadline = time.monotonic() + 150
    state = "queued"
    while state not in ("success", "failed"):
        stack.processes.check()
        if time.monotonic() > deadline:
            raise StackError(f"{DAG} run still {state}\n{stack.processes.logs()}")
        time.sleep(1)
        state = stack.get(f"dags/{DAG}/dagRuns/{run_id}").json()["state"]
    tasks = stack.get(f"dags/{DAG}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    return state, tasks


def table(schema: str, name: str, order: str = "1") -> list[tuple[Any, ...]]:
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(f'SELECT * FROM "{schema}"."{name}" ORDER BY {order}')
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def outcome(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """What a run leaves, without what names the run (ids, times) or the schema."""
    runs = table(schema, "_dagsmith_runs", "stream")
    return {
        "penguins": sorted(table(schema, "penguins"), key=repr),
        "stocks": table(schema, "stocks", "symbol, date"),
        "rejects": [row[1:] for row in table(schema, "penguins__rejects", "row_number")],
        "runs": [
            (pipeline, stream, target.split(".")[-1], mode, *counts)
            for _, pipeline, stream, target, mode, _, _, *counts in runs
        ],
    }


def test_a_two_stream_dag_runs_on_two_celery_workers_as_dagsmith_run_does(
    tmp_path: Path, schemas: tuple[str, str], s3: tuple[str, Any]
) -> None:
    on_airflow, on_cli = schemas
    endpoint, client = s3
    local = project(tmp_path / "local", on_cli)
    dagsmith(local, {"AIRFLOW_CONN_WAREHOUSE": PG_URL}, "run", f"pipelines/{DAG}.yaml")
    deployed = project(tmp_path / "deployed", on_airflow)
    folder = tmp_path / "stack"
    folder.mkdir()
    with celery_stack(folder, deployed, worker_env(endpoint)) as stack:
        state, tasks = run_dag(stack)
        assert state == "success", f"{tasks}\n{stack.processes.logs()}"
        # The broker's keys are all under the run's own prefix, the queue's among them.
        assert f"{stack.prefix}_kombu.binding.{stack.queue}" in stack.broker_keys()
    ran_on = {task["task_id"]: task["hostname"] for task in tasks}
    assert len(ran_on) == 2  # one task per stream
    # A retry would hide a phase that found nothing to read on the worker's disk.
    assert {task["task_id"]: task["try_number"] for task in tasks} == dict.fromkeys(ran_on, 1)
    assert set(ran_on.values()) == {"worker-1", "worker-2"}, ran_on
    for worker in stack.workers:  # each task's log is in the home of the worker that ran it
        logged = {p.parent.name for p in (folder / worker / "logs").rglob("attempt=*.log")}
        assert logged == {f"task_id={t}" for t, host in ran_on.items() if host == worker}

    expected = outcome(on_cli)
    assert len(expected["penguins"]) + len(expected["rejects"]) == 344
    assert expected["rejects"] and len(expected["stocks"]) == 560
    assert len(expected["runs"]) == 2
    assert outcome(on_airflow) == expected

    # Each stream's extract and transform phases staged their Parquet in the bucket, and
    # each load removed its stream's files once committed; its run report stays.
    versions = client.list_object_versions(Bucket=BUCKET, Prefix=f"dagsmith/{DAG}/")
    staged = {v["Key"].split("/", 3)[3] for v in versions.get("Versions", [])}
    assert {
        f"{s}/{stage}.parquet" for s in ("penguins", "stocks") for stage in ("extract", "transform")
    } <= staged
    left = client.list_objects_v2(Bucket=BUCKET, Prefix="dagsmith/").get("Contents", [])
    assert all(item["Key"].startswith(f"dagsmith/_reports/{DAG}/") for item in left)
    assert sorted(item["Key"].rsplit("/", 1)[1] for item in left) == [
        f"{s}.{suffix}" for s in ("penguins", "stocks") for suffix in ("html", "junit.xml")
    ]
    assert not list(folder.rglob("*.parquet"))
