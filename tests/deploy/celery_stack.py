"""Airflow 3 with the CeleryExecutor on loopback, for the scale-out test.

A control folder runs the api-server (it serves the execution API the workers call), the
scheduler and the dag-processor, against a fresh PostgreSQL metadata database. Two Celery
workers run from folders of their own (AIRFLOW_HOME, working folder, temp folder, their own
copy of `dags/` and `pipelines/`): no disk is shared between them. Redis is the broker, in a
database number of its own, under a key prefix and a queue name unique to the run, so other
users of that Redis see nothing. Every wait is bounded; on the way out every process group
is stopped, the database dropped and the broker's keys deleted, even after a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import redis
import requests
import sqlalchemy as sa

from tests.conftest import PG_URL
from tests.deploy.conftest import free_port

BROKER = "redis://127.0.0.1:6379/13"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


class StackError(AssertionError):
    """The stack did not come up, or a process of it died; the message holds its logs."""


@dataclass
class Processes:
    """The stack's processes, each the leader of its own process group, logging to a file."""

    folder: Path
    running: dict[str, subprocess.Popen[bytes]]

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
        with (self.folder / f"{name}.log").open("wb") as log:
            self.running[name] = subprocess.Popen(
                [AIRFLOW, *args],
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def logs(self, lines: int = 40) -> str:
        """The last lines of every process's log, for a failure message."""
        return "\n".join(
            f"--- {name} ---\n" + "\n".join(self.log(name).splitlines()[-lines:])
            for name in self.running
        )

    def check(self) -> None:
        """Fail, with the logs, when a process has exited."""
        for name, process in self.running.items():
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}\n{self.logs()}")

    def stop(self) -> None:
        """SIGTERM each group, then SIGKILL what is left after a grace period."""
        for process in self.running.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.running.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The leader may be gone while its children (task runners, pool workers) are not.
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def wait_for(what: str, ready: Callable[[], bool], processes: Processes, timeout: float) -> None:
    """Poll `ready` until it holds; fail with the logs when it never does or a process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes.check()
        if ready():
            return
        time.sleep(0.5)
    raise StackError(f"{what}: not after {timeout:.0f} s\n{processes.logs()}")


@contextmanager
def metadata_database() -> Iterator[str]:
    """A fresh PostgreSQL database for Airflow's metadata, dropped after."""
    admin = sa.create_engine(sa.make_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"airflow_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def broker_prefix() -> Iterator[str]:
    """A key prefix of our own in the broker's database; its keys are deleted after."""
    prefix = f"dagsmith-test-{secrets.token_hex(6)}:"
    client = redis.Redis.from_url(BROKER)
    client.ping()
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)
        client.close()


def airflow_env(database: str, prefix: str, api_port: int) -> dict[str, str]:
    """What every process of the stack is told: no setting of the caller's Airflow leaks in."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DAGSMITH_"))}
    queue = prefix.rstrip(":").replace("-", "_")
    return base | {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__BROKER_URL": BROKER,
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": prefix,
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "3600",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.deploy.hostname.from_env",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }


def home(folder: Path, name: str, project: Path, env: dict[str, str]) -> dict[str, str]:
    """A folder of one's own: AIRFLOW_HOME, working folder, temp folder, dags and pipelines."""
    path = folder / name
    for part in ("dags", "pipelines"):
        shutil.copytree(project / part, path / part)
    (path / "tmp").mkdir()
    return env | {
        "AIRFLOW_HOME": str(path),
        "AIRFLOW__CORE__DAGS_FOLDER": str(path / "dags"),
        "TMPDIR": str(path / "tmp"),
        "DAGSMITH_TEST_HOSTNAME": name,
    }


@dataclass(frozen=True)
class Stack:
    """A running stack: the REST API's base URL, the workers' names, the processes."""

    api: str
    workers: tuple[str, ...]
    queue: str
    prefix: str
    processes: Processes

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.api}/api/v2/{path}", timeout=30)

    def post(self, path: str, body: dict[str, object]) -> dict[str, object]:
        response = requests.post(f"{self.api}/api/v2/{path}", json=body, timeout=30)
        assert response.status_code < 300, response.text
        data: dict[str, object] = response.json()
        return data

    def ready(self, path: str) -> bool:
        try:
            return self.get(path).status_code == 200
        except requests.ConnectionError:
            return False

    def broker_keys(self) -> list[str]:
        """The keys the stack holds in the broker's database (all under its prefix)."""
        client = redis.Redis.from_url(BROKER)
        try:
            return [key.decode() for key in client.scan_iter(match=f"{self.prefix}*")]
        finally:
            client.close()


@contextmanager
def celery_stack(
    folder: Path, project: Path, worker_env: dict[str, str], workers: int = 2
) -> Iterator[Stack]:
    """Airflow with `workers` Celery workers over `project`'s dags and pipelines."""
    api_port = free_port()
    with metadata_database() as database, broker_prefix() as prefix:
        env = airflow_env(database, prefix, api_port)
        control = home(folder, "control", project, env)
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=control, capture_output=True, timeout=150
        )
        if migrate.returncode:
            raise StackError(f"airflow db migrate failed:\n{migrate.stdout.decode()[-4000:]}")
        names = tuple(f"worker-{n}" for n in range(1, workers + 1))
        queue = env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]
        stack = Stack(f"http://127.0.0.1:{api_port}", names, queue, prefix, Processes(folder, {}))
        try:
            _start(stack, folder, control, project, env | worker_env)
            yield stack
        finally:
            stack.processes.stop()


def _start(
    stack: Stack, folder: Path, control: dict[str, str], project: Path, env: dict[str, str]
) -> None:
    """Start the control processes and the workers; return once they all serve."""
    processes, port = stack.processes, stack.api.rsplit(":", 1)[1]
    for args in (
        ["api-server", "-H", "127.0.0.1", "-p", port, "-w", "1"],
        ["scheduler"],
        ["dag-processor"],
    ):
        processes.start(args[0], args, control, folder / "control")
    for name in stack.workers:
        own = home(folder, name, project, env)
        # No log server (its fixed port would clash), no chatter with other users' workers.
        options = ["--skip-serve-logs", "--without-mingle", "--without-gossip"]
        worker = ["celery", "worker", "-q", stack.queue, "-c", "1", "-H", f"{name}@dagsmith"]
        processes.start(name, worker + options, own, folder / name)
    wait_for("the api-server", lambda: stack.ready("monitor/health"), processes, 90)
    for name in stack.workers:
        wait_for(name, lambda n=name: f"{n}@dagsmith ready" in processes.log(n), processes, 90)
