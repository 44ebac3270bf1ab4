"""Metrics never fail a load; JSON log lines carry pipeline, stream and run id; every run
ends with a summary line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors import logs
from connectors.metrics import PUSHGATEWAY_ENV, push_stream
from connectors.runner import run_pipeline
from connectors.runtime import RunInfo, StreamStats
from connectors.spec import load_spec
from tests.conftest import Cli
from tests.deploy.conftest import free_port


@pytest.fixture
def json_lines() -> Iterator[list[dict[str, object]]]:
    """Every record of the `dagsmith` logger, as the JSON formatter writes it."""
    lines: list[dict[str, object]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    handler = Collect(level=logging.INFO)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("dagsmith")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_no_push_without_a_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PUSHGATEWAY_ENV, raising=False)
    run = RunInfo("r1", "shop", "orders", datetime.now(UTC))
    assert push_stream(run, StreamStats(), "ok", 1.0) is False


def test_an_unreachable_gateway_logs_a_warning_and_the_load_goes_on(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(PUSHGATEWAY_ENV, f"http://user:secret@127.0.0.1:{free_port()}")
    (shop.parent / "refunds.csv").write_text("refund_id\n1\n")
    with caplog.at_level(logging.WARNING, logger="dagsmith"):
        summary = run_pipeline(load_spec(shop), base_dir=shop.parent, project_dir=tmp_path)
    assert summary.ok
    assert [s.load.rows_loaded for s in summary.streams if s.load] == [3, 1]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "orders: metrics not pushed to http://127.0.0.1:" in warnings[0]
    assert "secret" not in caplog.text


def test_json_lines_carry_the_run_and_end_with_a_summary(
    shop: Path, tmp_path: Path, json_lines: list[dict[str, object]]
) -> None:
    summary = run_pipeline(
        load_spec(shop), base_dir=shop.parent, project_dir=tmp_path, run_id="run-7"
    )
    assert [s.status for s in summary.streams] == ["ok", "failed"]
    # Rows are rejected on the prefetch thread: its lines must carry the stream too.
    rejected = [line for line in json_lines if "rejected by" in str(line["message"])]
    assert rejected
    assert {(r["pipeline"], r["stream"], r["run_id"]) for r in rejected} == {
        ("shop", "orders", "run-7")
    }
    failed = [line for line in json_lines if line["level"] == "error"]
    assert [(f["stream"], f["run_id"]) for f in failed] == [("refunds", "run-7")]
    last = json_lines[-1]
    assert last["event"] == "run_summary"
    assert (last["pipeline"], last["stream"], last["run_id"]) == ("shop", None, "run-7")
    assert str(last["message"]).startswith("run run-7 of shop failed (refunds): 2 stream(s)")
    streams = last["summary"]["streams"]  # type: ignore[index]
    assert [(s["stream"], s["rows_loaded"]) for s in streams] == [("orders", 3), ("refunds", 0)]


def test_cli_log_format_json(shop: Path, tmp_path: Path, dagsmith: Cli) -> None:
    (shop.parent / "refunds.csv").write_text("refund_id\n1\n")
    result = dagsmith("--log-format", "json", "run", str(shop), "--run-id", "cli-1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines[-1]["event"] == "run_summary"
    assert lines[-1]["summary"]["ok"] is True
    assert all(line["run_id"] == "cli-1" and line["pipeline"] == "shop" for line in lines)
    bad = dagsmith("validate", str(shop), cwd=tmp_path, env={logs.LOG_FORMAT_ENV: "xml"})
    assert bad.returncode == 2
    assert "unknown log format 'xml'" in bad.stderr


def test_json_formatter_writes_one_object_per_line() -> None:
    record = logging.makeLogRecord(
        {"name": "dagsmith", "levelname": "INFO", "msg": "a\nb %s", "args": ("c",)}
    )
    logs.ContextFilter().filter(record)
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "a\nb c"
    assert (entry["pipeline"], entry["stream"], entry["run_id"]) == (None, None, None)
