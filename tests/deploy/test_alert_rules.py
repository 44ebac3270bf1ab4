"""The alert rules pass `promtool check rules`, and their unit tests (failed run, stale
pipeline, reject spike) pass `promtool test rules`."""

from __future__ import annotations

from tests.deploy.conftest import PROMETHEUS, Promtool


def test_alert_rules_are_valid(promtool: Promtool) -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_prometheus_config_is_valid(promtool: Promtool) -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_failed_run_stale_pipeline_and_reject_spike_alerts_fire(promtool: Promtool) -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = (PROMETHEUS / "alerts.test.yml").read_text()
    for alert in ("DagsmithRunFailed", "DagsmithPipelineStale", "DagsmithRejectSpike"):
        assert f"alertname: {alert}\n        exp_alerts:\n          - exp_labels" in tests
