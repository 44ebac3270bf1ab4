"""`dagsmith health` judges what real `dagsmith run`s recorded, on PostgreSQL, MariaDB,
SQLite and the embedded DuckDB file: the input files change between runs to make a volume
drop, a reject spike, a watermark that stops moving and a failed run."""

from __future__ import annotations

import json
from typing import Any

from tests.health.conftest import Project
from tests.runs.conftest import dagsmith, listed

STREAMS = """\
  - name: orders
    source: {{kind: csv, path: data/orders.csv}}
    transform: {{types: {{id: bigint}}, required: [amount]}}
    load: {{table: {orders}, mode: append}}
  - name: events
    source: {{kind: csv, path: data/events.csv}}
    transform: {{types: {{id: bigint, updated_at: timestamptz}}}}
    load: {{table: {events}, mode: upsert, keys: [id]}}
    incremental: {{cursor: updated_at}}
"""
EVENTS = "id,updated_at\n1,2026-01-01T00:00:00Z\n2,2026-01-02T00:00:00Z\n"


def orders(rows: int, without_amount: int = 0) -> str:
    """A CSV of `rows` orders, the last `without_amount` of them with no amount."""
    lines = [f"{n},{'' if n > rows - without_amount else n}" for n in range(1, rows + 1)]
    return "id,amount\n" + "\n".join(lines) + "\n"


def only(results: dict[str, list[dict[str, Any]]], check: str) -> dict[str, Any]:
    (result,) = results[check]
    return result


def test_a_volume_drop_a_reject_spike_a_stalled_watermark_and_a_failed_run(
    project: Project,
) -> None:
    project.write_spec(
        STREAMS.format(orders=project.table("orders"), events=project.table("events"))
    )
    project.data("events.csv", EVENTS)  # never changes: the watermark moves once, then stays
    project.data("orders.csv", orders(100))
    for _ in range(4):
        project.run()

    code, streams = project.health()

    assert code == 1  # the watermark of events stopped after its first run
    waiting = {
        name for name, results in streams["orders"].items() if results[0]["status"] == "waiting"
    }
    assert waiting == {"volume", "rejects", "duration"}  # four successful runs: one too few
    assert only(streams["orders"], "last_run")["status"] == "ok"
    stalled = only(streams["events"], "watermark")
    runs = sorted(listed("shop", "--stream", "events"), key=lambda r: r["started_at"])
    assert stalled["status"] == "failed" and stalled["since"] == runs[1]["started_at"]
    assert (
        stalled["seen"] == "unchanged at '2026-01-02T00:00:00+00:00' for the last 3 successful runs"
    )

    project.data("orders.csv", orders(30, without_amount=10))
    spiked = project.run()["run_id"]
    code, streams = project.health()

    assert code == 1
    volume = only(streams["orders"], "volume")
    (run,) = [r for r in listed("shop", "--stream", "orders") if r["run_id"] == spiked]
    assert (volume["status"], volume["severity"], volume["since"]) == (
        "failed",
        "warning",
        run["started_at"],
    )
    assert (
        volume["expected"]
        == "80 to 120 rows loaded (median 100 of the 4 successful runs before, ± 4 MADs)"
    )
    assert volume["seen"] == f"20 rows loaded by {spiked}"
    rejects = only(streams["orders"], "rejects")
    assert rejects["status"] == "failed" and "rule 'required'" in rejects["expected"]
    assert rejects["seen"] == f"33.3% of 30 rows read rejected by {spiked}"
    assert only(streams["orders"], "duration")["status"] == "ok"  # a minute at the least

    project.data("orders.csv", None)
    failed = project.run()["run_id"]
    code, streams = project.health()
    last = only(streams["orders"], "last_run")
    assert (code, last["status"], last["severity"]) == (1, "failed", "critical")
    assert last["seen"].startswith(f"1 failed attempt(s) since the last success; {failed}: ")
    assert "orders.csv" in last["seen"]

    code, text, _ = dagsmith("health", "shop")
    assert code == 1
    assert "orders  ✗ 3 of 5 checks failed" in text
    assert "✗ last_run (critical)" in text and "✗ volume (warning)" in text
    assert f"seen      20 rows loaded by {spiked}" in text


STREAMS_DRIFT = """\
  - name: added
    source: {{kind: csv, path: data/added.csv}}
    load: {{table: {added}}}
    contract: {{new_columns: add}}
  - name: ignored
    source: {{kind: csv, path: data/ignored.csv}}
    load: {{table: {ignored}}}
    contract: {{new_columns: ignore}}
  - name: missing
    source: {{kind: csv, path: data/missing.csv}}
    load: {{table: {missing}}}
"""


def test_the_contracts_drift_is_recorded_in_the_run_and_judged(project: Project) -> None:
    """Each stream's contract settles another drift; the table added a column once, so its
    drift passes with the next run, while an ignored column stays a finding since it came."""
    tables = {name: project.table(name) for name in ("added", "ignored", "missing")}
    project.write_spec(STREAMS_DRIFT.format(**tables))
    for name, header in (("added", "id,a"), ("ignored", "id,a"), ("missing", "id,a,b")):
        project.data(f"{name}.csv", f"{header}\n1,2{',3' if header.count(',') == 2 else ''}\n")
    first = project.run()["run_id"]
    code, streams = project.health()
    assert code == 0
    assert {only(results, "schema_drift")["status"] for results in streams.values()} == {"ok"}

    project.data("added.csv", "id,a,note\n2,3,x\n")
    project.data("ignored.csv", "id,a,note\n2,3,x\n")
    project.data("missing.csv", "id,a\n2,3\n")
    second = project.run()["run_id"]
    code, streams = project.health()
    assert code == 1
    seen = {name: only(results, "schema_drift")["seen"] for name, results in streams.items()}
    assert seen == {
        "added": f"{second}: added note",
        "ignored": f"{second}: ignored note",
        "missing": f"{second}: missing b",
    }
    code, out, _ = dagsmith("runs", "show", second, "shop", "--json")
    drift = {record["stream"]: record["schema_drift"] for record in json.loads(out)}
    assert drift == {
        "added": {"added": ["note"]},
        "ignored": {"ignored": ["note"]},
        "missing": {"missing": ["b"]},
    }
    assert dagsmith("runs", "show", second, "shop")[1].count("schema drift (contract): ") == 3

    project.run()
    code, streams = project.health()
    ignored = only(streams["ignored"], "schema_drift")
    assert only(streams["added"], "schema_drift")["status"] == "ok"  # the table has it now
    started = {r["run_id"]: r["started_at"] for r in listed("shop", "--stream", "ignored")}
    assert (ignored["status"], ignored["since"]) == ("failed", started[second])
    assert first in started
