"""A build's audit records name one spec by one hash, the one its DAG's header carries,
also when `--out` moves the spec away from its data (its paths are then rewritten)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agent.audit import trail
from tests.conftest import Cli


def test_every_step_names_the_spec_by_the_hash_in_its_dag(tmp_path: Path, dagsmith: Cli) -> None:
    (tmp_path / "orders.csv").write_text("order_id,amount\n1,2.5\n2,3\n")
    done = dagsmith(
        "build", "load orders.csv into table orders, upsert on order_id", "--out", "o", "--yes",
        cwd=tmp_path, env={"DAGSMITH_MODEL": "offline"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header = re.search(r"# spec hash: '(\w+)'", (tmp_path / "o/dags/orders.py").read_text())
    assert header is not None
    records = [json.loads(line) for line in trail.trail_path(tmp_path).read_text().splitlines()]
    hashes = {r[key] for r in records for key in ("spec_before", "spec_after")} - {None}
    assert hashes == {header[1]}
    assert "../orders.csv" in (tmp_path / "o/pipelines/orders.yaml").read_text()
