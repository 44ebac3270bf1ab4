"""The alert rules pass `promtool check rules`, and their unit tests (failed run, stale
pipeline, reject spike, and from the health gauges an overdue stream and a failed health
check) pass `promtool test rules`."""

from __future__ import annotations

from tests.deploy.conftest import PROMETHEUS, Promtool


def test_alert_rules_are_valid(promtool: Promtool) -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_prometheus_config_is_valid(promtool: Promtool) -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_fires_in_its_unit_test(promtool: Promtool) -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tests = (PROMETHEUS / "alerts.test.yml").read_text()
    alerts = (
        "DagsmithRunFailed",
        "DagsmithPipelineStale",
        "DagsmithRejectSpike",
        "DagsmithStreamOverdue",
        "DagsmithHealthCheckFailed",
    )
    for alert in alerts:
        assert f"alertname: {alert}\n        exp_alerts:\n          - exp_labels" in tests
