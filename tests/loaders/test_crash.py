"""A load killed between staging and commit leaves the target as it was; a rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from connectors.loaders import loader_for
from tests.conftest import Database
from tests.loaders.conftest import make_job

ROOT = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    from connectors.loaders import loader_for
    from tests.loaders.conftest import make_job

    def staged():
        print("staged", flush=True)
        time.sleep(120)

    url, table = sa.make_url(sys.argv[1]), sys.argv[2]
    data = {"id": [2, 3, 4], "name": ["changed", "c", "d"]}
    job = make_job(table, data, mode=sys.argv[3], keys=["id"] if sys.argv[3] == "upsert" else [],
                   run_id="crash", before_commit=staged, state={"cursor": "new"})
    loader_for(url).load(job)
    """
)


def kill_mid_load(database: Database, mode: str) -> None:
    url = database.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, database.table("orders"), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "staged"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()


def test_sigkill_between_staging_and_commit(database: Database) -> None:
    for mode in ("append", "upsert"):
        table = database.table("orders")
        first = {"id": [1, 2], "name": ["a", "b"]}
        keys = ["id"] if mode == "upsert" else []
        loader_for(database.url).load(
            make_job(table, first, mode=mode, keys=keys, run_id=f"first-{mode}")
        )
        before = database.rows(table)

        kill_mid_load(database, mode)

        assert database.rows(table) == before
        assert [r[0] for r in database.rows(database.table("_dagsmith_runs"))] == [f"first-{mode}"]
        rerun = make_job(
            table,
            {"id": [2, 3, 4], "name": ["changed", "c", "d"]},
            mode=mode,
            keys=keys,
            run_id="crash",
        )
        assert not loader_for(database.url).load(rerun).skipped
        again = make_job(table, {"id": [5]}, mode=mode, keys=keys, run_id="crash")
        assert loader_for(database.url).load(again).skipped
        expected_ids = [1, 2, 2, 3, 4] if mode == "append" else [1, 2, 3, 4]
        assert [r[0] for r in database.rows(table, "1, 2")] == expected_ids
        with database.engine.begin() as conn:
            for name in ("orders", "orders__rejects", "_dagsmith_runs", "_dagsmith_state"):
                conn.exec_driver_sql(f"DROP TABLE {database.table(name)}")
