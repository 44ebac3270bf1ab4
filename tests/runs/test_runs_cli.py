"""`dagsmith runs` and `dagsmith runs show` read what real runs recorded, on PostgreSQL,
MariaDB, SQLite and the embedded DuckDB file: committed loads with their rejects and
watermarks, a run the reject limit failed, a run whose source was missing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runs.conftest import PIPELINE, Project, dagsmith, listed

FIRST = """1,10.50,paid,2026-01-01T10:00:00Z
2,-3,paid,2026-01-01T11:00:00Z
,5,paid,2026-01-01T12:00:00Z
3,7,test,2026-01-01T13:00:00Z
4,8,paid,2026-01-02T09:00:00Z
"""
SECOND = """5,1,paid,2026-01-03T08:00:00Z
6,2,paid,2026-01-03T09:00:00Z
"""
BAD = "".join(f"{n},-{n},paid,2026-01-04T00:00:00Z\n" for n in range(7, 11))
W1, W2 = "2026-01-02T09:00:00+00:00", "2026-01-03T09:00:00+00:00"
COUNTS = ("status", "rows_read", "rows_filtered", "rows_rejected", "rows_loaded")


def history(project: Project) -> list[str]:
    """Four runs, oldest first: two loads, a reject limit's failure, a missing file's."""
    project.write_spec()
    run_ids = []
    for rows in (FIRST, SECOND, BAD, None):
        project.data(rows)
        run_ids.append(project.run()["run_id"])
    return run_ids


def shown(record: dict[str, Any], *keys: str) -> tuple[Any, ...]:
    return tuple(record[key] for key in keys)


def test_runs_lists_every_run_newest_first_with_counts_watermarks_and_errors(
    project: Project,
) -> None:
    first, second, limited, missing = history(project)

    runs = listed(PIPELINE)

    assert [run["run_id"] for run in runs] == [missing, limited, second, first]
    assert [shown(run, *COUNTS) for run in runs] == [
        ("failed", 0, 0, 0, 0),
        ("failed", 4, 0, 4, 0),
        ("ok", 2, 0, 0, 2),
        ("ok", 5, 1, 2, 2),
    ]
    watermarks = [shown(run, "watermark_before", "watermark_after") for run in runs]
    assert watermarks == [(W2, W2), (W2, W2), (W1, W2), (None, W1)]
    assert "orders.csv" in runs[0]["error"]
    assert "max_rejects is 3" in runs[1]["error"]
    assert [run["error"] for run in runs[2:]] == [None, None]
    assert all(run["pipeline"] == PIPELINE and run["stream"] == "orders" for run in runs)
    assert all(run["table"] == project.table and run["mode"] == "upsert" for run in runs)
    assert all(0 <= run["seconds"] < 60 for run in runs)
    assert (runs[2]["inserted"], runs[2]["updated"]) == (2, 0)


def test_runs_filters_and_limits(project: Project) -> None:
    run_ids = history(project)
    newest_first = run_ids[::-1]

    assert [r["run_id"] for r in listed(PIPELINE, "--limit", "2")] == newest_first[:2]
    assert [r["run_id"] for r in listed(PIPELINE, "--stream", "orders")] == newest_first
    assert [r["run_id"] for r in listed(PIPELINE, "--since", "1h")] == newest_first
    assert listed(PIPELINE, "--since", "2999-01-01") == []
    # Every spec in pipelines/, and a spec named by its path, read the same records.
    assert [r["run_id"] for r in listed()] == newest_first
    assert [r["run_id"] for r in listed(f"pipelines/{PIPELINE}.yaml")] == newest_first


def test_runs_show_gives_a_run_whole(project: Project) -> None:
    first, _, limited, _ = history(project)

    code, out, err = dagsmith("runs", "show", first, "--json")
    assert code == 0, err
    (stream,) = json.loads(out)
    assert shown(stream, "run_id", *COUNTS) == (first, "ok", 5, 1, 2, 2)
    assert [(r["rule"], r["rows"]) for r in stream["rejected_by_rule"]] == [
        ("range", 1),
        ("required", 1),
    ]
    assert "below the minimum" in stream["rejected_by_rule"][0]["example"]
    samples = stream["rejected_samples"]
    assert [(s["row_number"], s["rule"]) for s in samples] == [(2, "range"), (3, "required")]
    assert '"-3"' in samples[0]["raw"]

    code, out, err = dagsmith("runs", "show", limited, PIPELINE, "--json")
    assert code == 0, err
    (failed,) = json.loads(out)
    assert shown(failed, "status", "rows_rejected") == ("failed", 4)
    assert "max_rejects is 3" in failed["error"]
    assert failed["rejected_by_rule"] == []  # the failed load rolled its rejects back

    code, out, err = dagsmith("runs", "show", first, "--samples", "1")
    assert code == 0, err
    assert "row 2, range:" in out and "row 3" not in out
    assert "required" in out and f"run {first}" in out


def test_runs_names_what_is_wrong(project: Project) -> None:
    history(project)

    code, _, err = dagsmith("runs", "show", "no_such_run", PIPELINE)
    assert code == 1 and "no run 'no_such_run' of shop_orders" in err
    code, _, err = dagsmith("runs", "nope")
    assert code == 2 and "unknown pipeline 'nope'" in err and "shop_orders" in err
    code, _, err = dagsmith("runs", PIPELINE, "--stream", "nope")
    assert code == 2 and "no stream 'nope'" in err
    code, _, err = dagsmith("runs", PIPELINE, "--since", "yesterday")
    assert code == 2 and "'yesterday' is neither a duration" in err


KILLED = """
import os, signal, sys
from datetime import UTC, datetime
from connectors import running
from connectors.runtime import RunInfo
running.started(RunInfo("killed_run", sys.argv[1], "orders", datetime.now(UTC)))
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_runs_lists_a_killed_run_that_left_only_its_marker(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_STAGING_URL", str(tmp_path / "staging-area"))
    ok = history(project)[0]
    died = subprocess.run([sys.executable, "-c", KILLED, PIPELINE], check=False)
    assert died.returncode == -signal.SIGKILL
    runs = listed()
    assert [(r["run_id"], r["status"]) for r in runs if r["run_id"] in (ok, "killed_run")] == [
        (ok, "ok"),
        ("killed_run", "killed"),
    ]
    code, out, _ = dagsmith("runs")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("killed_run"))
    assert f"{PIPELINE}.orders  killed" in line and "dagsmith diagnose killed_run" in line
    assert listed("--stream", "orders", "--since", "1h")[-1]["run_id"] == "killed_run"


def test_a_spec_whose_connection_is_not_set_is_a_warning_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a history needs only the targets that hold it: a spec deployed elsewhere
    (its connection unset here) is named with its variable, and the others are read."""
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AIRFLOW_CONN_ELSEWHERE", raising=False)
    project = Project(tmp_path, "orders", None)
    project.write_spec()
    project.data(SECOND)
    run_id = project.run()["run_id"]
    Project(tmp_path, "orders", "elsewhere").write_spec(pipeline="remote_orders")
    unset = "pipelines/remote_orders.yaml (pipeline remote_orders)"

    code, out, err = dagsmith("runs", "--json")
    assert code == 0, err
    assert [run["run_id"] for run in json.loads(out)] == [run_id]
    assert f"warning: {unset}: its runs are not listed" in err
    assert "AIRFLOW_CONN_ELSEWHERE" in err
    code, _, err = dagsmith("health")
    assert code == 0 and f"warning: {unset}: its health is not judged" in err
    code, out, err = dagsmith("runs", "show", run_id)
    assert code == 0 and f"run {run_id}" in out
    assert f"warning: {unset}: its target was not looked in" in err
    code, out, err = dagsmith("diagnose", run_id, "--model", "offline", "--json")
    assert code == 0, err
    assert json.loads(out)["run_id"] == run_id
    # Named, the pipeline's target is what was asked for: that is an error.
    code, _, err = dagsmith("runs", "remote_orders")
    assert code == 2 and "error: connection 'elsewhere' is not configured" in err
