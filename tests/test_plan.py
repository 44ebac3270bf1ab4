"""The stream plan: what a run reads with, decided once for `dagsmith run` and Airflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.connections import resolve_target
from connectors.plan import plan_stream
from connectors.runner import run_pipeline
from connectors.runtime import Rejects, StreamStats
from connectors.spec import parse_spec

SPEC = """
pipeline: lake_events
streams:
  - name: events
    source: {kind: csv, path: "s3://lake/events/*.csv", connection: lake}
    transform: {rename: {UpdatedAt: updated_at}, types: {updated_at: timestamptz}}
    load: {table: events, mode: upsert, keys: [id]}
    incremental: {cursor: updated_at, initial: "2025-01-01T00:00:00+00:00", lag: 1h}
  - name: local
    source: {kind: csv, path: data/local.csv}
    load: {table: local}
"""


def test_the_read_context_carries_the_connections_credentials_and_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = {"conn_type": "aws", "login": "AKIA", "password": "s3cret", "extra": {"verify": False}}
    monkeypatch.setenv("AIRFLOW_CONN_LAKE", json.dumps(lake))
    spec = parse_spec(SPEC)
    target = resolve_target(None, tmp_path)
    plan = plan_stream(
        spec, "events", run_id="r1", target=target, base_dir=tmp_path, project_dir=tmp_path
    )
    assert plan.run.run_id == "r1" and plan.run.stream == "events"
    watermark = plan.watermark(plan.stored_watermark())  # nothing stored yet: `initial`
    ctx = plan.read_context(Rejects(plan.run, StreamStats()), watermark)
    assert ctx.storage_options == {
        "key": "AKIA",
        "secret": "s3cret",
        "client_kwargs": {"verify": False},
    }
    # The bound is sent in the source's own column name, the lag already taken off.
    assert ctx.since is not None
    assert (ctx.since.column, ctx.since.value) == ("UpdatedAt", "2024-12-31T23:00:00+00:00")

    local = plan_stream(
        spec, "local", run_id="r1", target=target, base_dir=tmp_path, project_dir=tmp_path
    )
    plain = local.read_context(Rejects(local.run, StreamStats()), local.watermark(None))
    assert plain.since is None and plain.storage_options == {}
    assert plain.base_dir == tmp_path


def test_the_plan_starts_from_the_committed_watermark_unless_a_full_refresh(
    tmp_path: Path,
) -> None:
    (tmp_path / "events.csv").write_text("id,at\n1,2025-01-01T00:00:00Z\n2,2025-01-02T00:00:00Z\n")
    spec = parse_spec(
        """
pipeline: events
streams:
  - name: events
    source: {kind: csv, path: events.csv}
    transform: {types: {id: bigint, at: timestamptz}}
    load: {table: events, mode: upsert, keys: [id]}
    incremental: {cursor: at}
"""
    )
    assert run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path).ok
    target = resolve_target(None, tmp_path)
    plans = [
        plan_stream(
            spec,
            "events",
            run_id="again",
            target=target,
            base_dir=tmp_path,
            project_dir=tmp_path,
            full_refresh=full,
        )
        for full in (False, True)
    ]
    assert plans[0].stored_watermark() == "2025-01-02T00:00:00+00:00"
    assert plans[1].stored_watermark() is None
