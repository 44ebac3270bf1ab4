"""Incidents of the world around a run: a loopback REST API that fails, refuses a token or
slows down, a staging disk that fills up, a run killed in the middle of its load."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from connectors import running
from tests.incidents.files import INCREMENTAL, met, versions
from tests.incidents.harness import SPEC, Project
from tests.runs.conftest import listed
from tests.sources_rest.conftest import SECRET, Answer, Seen

REST = """\
  - name: orders
    source:
      kind: rest
      connection: api
      endpoint: orders
      auth: {type: bearer}
      retry: {attempts: 2, backoff: 0.05, max_wait: 1}
      timeout: {connect: 2, read: 30}
    load: {table: {table}, mode: upsert, keys: [id]}
"""
SMALL_DISK = 64 * 1024
"""Bytes the full staging disk holds; the API's answer needs more."""


@dataclass
class Orders:
    """The API's `/orders`: `count` orders, while it is up and the token is the one it knows."""

    count: int = 50
    token: str = SECRET
    down: bool = False
    delay: float = 0.0
    note: int = 0
    """Characters of text in each order."""

    def __call__(self, seen: Seen) -> Answer:
        if self.down:
            return Answer(503, {"error": "down for maintenance"})
        if seen.headers.get("Authorization") != f"Bearer {self.token}":
            return Answer(401, {"error": "invalid token"})
        time.sleep(self.delay)
        records = [{"id": i, "amount": i * 2.5, "note": "n" * self.note} for i in range(1, 51)]
        return Answer(200, records[: self.count])


def serving(project: Project, spec: str = REST, head: str = "") -> Orders:
    """The spec of a stream read from the API, and the API's orders route."""
    orders = Orders()
    project.api.routes["/orders"] = orders
    project.spec(spec, head)
    return orders


def outage(project: Project) -> str:
    """The API answers 503 for one run, then comes back."""
    api = serving(project)
    project.runs(2)
    api.down = True
    failed = met(project, "failed")
    assert "503" in failed["error"]
    api.down = False
    met(project, "ok")
    return str(failed["run_id"])


def token_revoked(project: Project) -> str:
    """The API stops accepting the connection's token: 401."""
    api = serving(project)
    project.runs(2)
    api.token = "rotated-by-the-api-team"
    failed = met(project, "failed")
    assert "401" in failed["error"] and SECRET not in failed["error"]
    return str(failed["run_id"])


def slow_run(project: Project) -> str:
    """After five runs the API takes four times the slowest of them (2 s at the least) to
    answer: slow on a busy machine too. `min: 1s`, so that short runs are judged."""
    api = serving(project, head="monitor: {duration: {min: 1s}}\n")
    slowest = max(run["seconds"] for run in project.runs(5))
    api.delay = max(2.0, 4 * slowest)
    slow = met(project, "ok")
    api.delay = 0.0  # the API is quick again when the diagnosis reads a sample
    return str(slow["run_id"])


@contextmanager
def small_disk(folder: Path) -> Iterator[Callable[[], None] | None]:
    """A staging disk of SMALL_DISK bytes at `folder`: a tmpfs where mount(8) may be used
    (root); elsewhere the limit is the process's own (RLIMIT_FSIZE: writes fail with EFBIG).
    Gives what the `dagsmith` process must run first: nothing, or setting that limit."""
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK}", "tmpfs", str(folder)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True, check=False).returncode:
        yield lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (SMALL_DISK, SMALL_DISK))
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def staging_full(project: Project) -> str:
    """The API's answer no longer fits the disk that `dagsmith run` stages it on (TMPDIR,
    DAGSMITH_STAGING_URL): ENOSPC (or EFBIG) mid-write; the target keeps what it had."""
    api = serving(project)
    project.runs(2)
    before = project.db.rows(project.table("orders"))
    api.note = 4000  # 50 orders of 4 kB: 200 kB to stage
    with small_disk(project.folder / "staging") as limit:
        staging = str(project.folder / "staging")
        project.env.update(TMPDIR=staging, DAGSMITH_STAGING_URL=staging)
        process = project.process("run", SPEC, "--run-id", "full-disk", preexec=limit)
        out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and "Traceback" not in err, out + err
    said = " ".join((out + err).split())  # as the terminal wrapped it
    assert "the disk that stages the stream's rows is full: [Errno" in said, said
    assert "point TMPDIR (and, for Airflow, DAGSMITH_STAGING_URL) at a larger disk" in said
    assert project.db.rows(project.table("orders")) == before  # nothing half-written
    (failed,) = [r for r in listed("shop") if r["run_id"] == "full-disk"]
    assert failed["status"] == "failed"
    return "full-disk"


def run_killed(project: Project) -> str:
    """SIGKILL a `dagsmith run` in the middle of its load, then run again.

    The timing is made, not guessed: the test holds a SHARE lock on the target, so the load
    waits at its first write inside its transaction until PostgreSQL shows it waiting; then
    the process is killed, and the lock let go.
    """
    project.spec(INCREMENTAL.replace("MODE", "append"))
    versions(project, range(1, 51))
    project.runs(1)
    versions(project, range(1, 101))
    table = project.table("orders")
    with project.db.engine.connect() as holder:
        holder.execute(sa.text(f"LOCK TABLE {table} IN SHARE MODE"))
        process = project.process("run", SPEC, "--run-id", "killed")
        waiting = sa.text(
            "SELECT count(*) FROM pg_locks WHERE relation = CAST(:t AS regclass) AND NOT granted"
        )
        deadline = time.monotonic() + 60
        while not holder.execute(waiting, {"t": table}).scalar():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the load never reached the target"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        holder.rollback()
    assert process.returncode == -signal.SIGKILL
    assert project.count() == 50
    # No record of it in the target, committed or failed: only its marker says it ran, and
    # `dagsmith runs` lists it from there.
    assert {r["status"] for r in listed("shop") if r["run_id"] == "killed"} == {"killed"}
    (marker,) = running.markers("shop")
    assert (marker.run_id, marker.pid, marker.alive) == ("killed", process.pid, False)
    return "shop"


def rerun_loses_nothing(project: Project) -> None:
    """The run again, as the diagnosis says: every order once."""
    run = project.run("--run-id", "killed")
    assert (run["status"], run["rows_loaded"]) == ("ok", 50), run
    assert project.count() == 100 and running.markers("shop") == []
    with project.db.engine.connect() as conn:
        distinct = conn.execute(
            sa.text(f"SELECT COUNT(DISTINCT id) FROM {project.table('orders')}")
        )
        assert distinct.scalar() == 100
