"""docker-compose.yml parses, everything it references exists, every variable it reads is in
.env.example, and the Dockerfile, Prometheus and Grafana files agree with it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.conftest import ROOT

AIRFLOW = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    """(host path, container path) of each bind mount (`./...`); named volumes are skipped."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts.append(((ROOT / source).resolve(), target))
    return mounts


def test_services_and_health_checks() -> None:
    services = compose()["services"]
    assert set(services) >= {"postgres", *AIRFLOW, "prometheus", "pushgateway", "grafana"}
    for name, service in services.items():
        if name != "airflow-init":
            assert "healthcheck" in service, name
    commands = {name: services[name]["command"] for name in AIRFLOW}
    assert commands == {name: name.removeprefix("airflow-") for name in AIRFLOW}


def test_every_referenced_file_exists() -> None:
    services = compose()["services"]
    for name in AIRFLOW:
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()
        targets = {target for _, target in bind_mounts(services[name])}
        assert {"/opt/airflow/dags", "/opt/airflow/pipelines"} <= targets
    mounts = [m for service in services.values() for m in bind_mounts(service)]
    assert len(mounts) >= 7
    missing = [str(source) for source, _ in mounts if not source.exists()]
    assert missing == []


def test_env_example_holds_every_variable_compose_reads() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    wanted = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = (ROOT / ".env.example").read_text()
    defined = set(re.findall(r"^([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert "POSTGRES_PASSWORD" in wanted
    assert wanted - defined == set()


def test_dockerfile_pins_the_locked_airflow_version() -> None:
    locked = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", dockerfile, re.M)
    assert locked and pinned
    assert pinned.group(1) == locked.group(1)
    assert "FROM apache/airflow:${AIRFLOW_VERSION}" in dockerfile


def test_prometheus_scrapes_the_pushgateway_keeping_pushed_labels() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "pushgateway"]
    assert job["honor_labels"] is True
    assert job["static_configs"][0]["targets"] == ["pushgateway:9091"]
    services = compose()["services"]
    mounted = {target for _, target in bind_mounts(services["prometheus"])}
    assert {f"/etc/prometheus/{rules}" for rules in config["rule_files"]} <= mounted


def test_grafana_provisions_the_dashboard_over_dagsmith_metrics() -> None:
    services = compose()["services"]
    mounts = dict((t, s) for s, t in bind_mounts(services["grafana"]))
    provider = yaml.safe_load(
        (mounts["/etc/grafana/provisioning"] / "dashboards/dagsmith.yaml").read_text()
    )
    folder = provider["providers"][0]["options"]["path"]
    dashboards = list(mounts[folder].glob("*.json"))
    assert [d.name for d in dashboards] == ["dagsmith.json"]
    dashboard = json.loads(dashboards[0].read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    metrics_py = (ROOT / "connectors/metrics.py").read_text()
    used = {name for e in exprs for name in re.findall(r"dagsmith_stream_([a-z_]+)", e)}
    assert used
    assert all(
        f'"{name}"' in metrics_py or f"dagsmith_stream_{name}" in metrics_py for name in used
    )
    datasource = yaml.safe_load(
        (mounts["/etc/grafana/provisioning"] / "datasources/prometheus.yaml").read_text()
    )
    uids = {panel["datasource"]["uid"] for panel in dashboard["panels"]}
    assert uids == {datasource["datasources"][0]["uid"]}
