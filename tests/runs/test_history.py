"""The pieces of `dagsmith runs`: durations, failure records, records of an older release,
an unreachable target, and both layouts of the list."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console

from agent.cli.runs_view import print_runs
from connectors import history
from connectors.connections import Target
from connectors.errors import LoadError, RejectLimitExceeded, SourceError, TargetUnavailable
from connectors.loaders.failed import ERROR_CHARS, failure_record
from connectors.masking import register
from connectors.plan import plan_stream
from connectors.runtime import RunInfo, StreamStats
from connectors.spec.io import parse_spec
from connectors.spec.models import Load
from tests.conftest import Database
from tests.runs.conftest import CONNECTION, PIPELINE, Project, dagsmith

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
        ("24h", datetime(2026, 12, 2, 12, 0, tzinfo=UTC)),
        ("30m", datetime(2026, 12, 3, 11, 30, tzinfo=UTC)),
        ("2w", datetime(2026, 11, 19, 12, 0, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T08:30:00+02:00", datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_since_reads_durations_and_iso_dates(text: str, expected: datetime) -> None:
    assert history.since(text, NOW) == expected


def test_since_refuses_anything_else() -> None:
    with pytest.raises(ValueError, match="neither a duration"):
        history.since("last week", NOW)


def test_a_failure_record_masks_secrets_and_is_bounded() -> None:
    register("s3cret-Pa55word")
    run = RunInfo("r1", "p", "s", NOW)
    stats = StreamStats(rows_read=7, rows_rejected=3)
    error = RejectLimitExceeded("at postgresql://u:s3cret-Pa55word@db/x " + "x" * 9000)
    record = failure_record(run, Load(table="t"), stats, {"cursor": "41"}, error)
    assert "s3cret-Pa55word" not in record["error"] and "u:***@db" in record["error"]
    assert len(record["error"]) == ERROR_CHARS and record["error"].endswith("…")
    kept = (record["rows_read"], record["rows_rejected"], record["watermark_before"])
    assert kept == (7, 3, "41")


def test_a_record_that_cannot_be_written_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spec = parse_spec(
        "pipeline: p\nstreams: [{name: s, source: {kind: csv, path: x.csv}, load: {table: t}}]"
    )
    target = Target(sa.make_url(f"sqlite:///{tmp_path}/t.db"), "db")
    plan = plan_stream(
        spec, "s", run_id="r", target=target, base_dir=tmp_path, project_dir=tmp_path
    )

    def refuse(_url: sa.URL, _record: object) -> None:
        raise LoadError("the records table is read-only")

    def unreachable(_url: sa.URL, _record: object) -> None:
        raise TargetUnavailable("connection refused at the same address the run failed on")

    monkeypatch.setattr("connectors.plan.record_failure", refuse)
    plan.record_failure(StreamStats(), SourceError("x.csv is gone"))
    assert "s: the failed run was not recorded: the records table is read-only" in caplog.text
    # Out of reach: the run's own error already says why, once.
    monkeypatch.setattr("connectors.plan.record_failure", unreachable)
    plan.record_failure(StreamStats(), SourceError("x.csv is gone"))
    assert "s: the failed run was not recorded: the target is out of reach" in caplog.text
    assert "connection refused" not in caplog.text


def test_records_of_an_older_release_are_read(sqlite: Database) -> None:
    """A runs table made before the newer columns (and no load since) still lists."""
    with sqlite.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE _dagsmith_runs (run_id TEXT, pipeline TEXT, stream TEXT, "
            "target_table TEXT, mode TEXT, started_at DATETIME, finished_at DATETIME, "
            "rows_read BIGINT, rows_rejected BIGINT, rows_loaded BIGINT, inserted BIGINT, "
            "updated BIGINT)"
        )
        conn.exec_driver_sql(
            "INSERT INTO _dagsmith_runs VALUES ('old', 'p', 's', 't', 'append', "
            "'2024-01-01 06:00:00.000000', '2024-01-01 06:00:02.500000', 3, 1, 2, 2, 0)"
        )
    spec = parse_spec(
        "pipeline: p\nstreams: [{name: s, source: {kind: csv, path: x.csv}, load: {table: t}}]"
    )
    (record,) = history.runs(Target(sqlite.url, "db"), history.Query([spec]))
    assert (record.run_id, record.status, record.rows_loaded, record.rows_filtered) == (
        "old",
        "ok",
        2,
        0,
    )
    assert (record.started_at, record.seconds) == (datetime(2024, 1, 1, 6, tzinfo=UTC), 2.5)
    assert (record.watermark_before, record.watermark_after, record.error) == (None, None, None)


def test_a_file_target_that_does_not_exist_has_no_runs_and_is_not_made(tmp_path: Path) -> None:
    url = sa.make_url(f"duckdb:///{tmp_path}/none.duckdb")
    spec = parse_spec(
        "pipeline: p\nstreams: [{name: s, source: {kind: csv, path: x.csv}, load: {table: t}}]"
    )
    assert history.runs(Target(url, None), history.Query([spec])) == []
    assert not (tmp_path / "none.duckdb").exists()


def test_an_unreachable_target_fails_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pipelines").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTION.upper()}", "postgresql://u:pw@127.0.0.1:1/db")
    Project(tmp_path, "orders", CONNECTION).write_spec()
    code, _, err = dagsmith("runs", PIPELINE)
    assert code == 1
    assert "reading the run records at postgresql+psycopg2://u:***@127.0.0.1:1/db failed" in err
    assert "retry" in err and "pw@" not in err


RECORD = history.RunRecord(
    run_id="1",
    pipeline="p",
    stream="orders",
    table="orders",
    mode="append",
    status="ok",
    started_at=NOW,
    finished_at=NOW,
    rows_read=5,
    rows_filtered=1,
    rows_rejected=2,
    rows_loaded=2,
    inserted=2,
    updated=0,
    watermark_before="2026-01-01",
    watermark_after="2026-01-02",
    error=None,
    target="duckdb:///x.duckdb",
)


@pytest.mark.parametrize("width", [80, 200])
def test_the_list_fits_the_console(width: int) -> None:
    console = Console(width=width, record=True)
    failed = replace(RECORD, run_id="manual__2", status="failed", error="source gone\nline 2")
    records = [failed, RECORD]
    print_runs(console, "duckdb:///x.duckdb", records)
    text = console.export_text()
    assert all(len(line) <= width for line in text.splitlines() if "failed:" not in line)
    assert "manual__2" in text and "2026-01-01 → 2026-01-02" in text
    assert "manual__2 orders failed: source gone" in text and "line 2" not in text
    assert ("read" in text) and ("filtered" in text)


def test_without_a_pipeline_every_spec_is_read_grouped_by_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An embedded and a SQLite target, a spec whose connection is missing, a broken spec."""
    folder = tmp_path / "pipelines"
    (folder / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTION.upper()}", f"sqlite:///{tmp_path}/t.db")
    Project(tmp_path, "orders", None).write_spec(pipeline="local")
    Project(tmp_path, "orders", CONNECTION).write_spec(pipeline="remote")
    Project(tmp_path, "orders", "nowhere").write_spec(pipeline="lost")
    (folder / "broken.yaml").write_text("pipeline: broken\n")
    Project(tmp_path, "orders", None).data("1,1,paid,2026-01-01T00:00:00Z\n")
    run_ids = [
        json.loads(dagsmith("run", f"pipelines/{name}.yaml", "--json")[1])["run_id"]
        for name in ("local", "remote")
    ]

    code, out, err = dagsmith("runs")

    assert code == 0  # `lost`, whose connection is not set here, is a warning
    assert "warning: pipelines/lost.yaml (pipeline lost): its runs are not listed" in err
    assert "AIRFLOW_CONN_NOWHERE" in err and "skipped:" in err and "broken.yaml" in err
    assert out.count("runs at ") == 2
    assert "warehouse.duckdb" in out and "t.db" in out
    assert all(run_id in out for run_id in run_ids)
