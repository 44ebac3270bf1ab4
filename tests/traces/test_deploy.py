"""The compose stack sends the Airflow services' traces to its Jaeger, whose OTLP/HTTP port is
the one dagsmith's exporter speaks, and docs/deploy.md shows a trace as the test prints it."""

from __future__ import annotations

import re

from tests.deploy.conftest import ROOT
from tests.deploy.test_compose import AIRFLOW, compose


def test_the_airflow_services_send_their_spans_to_jaeger() -> None:
    services = compose()["services"]
    assert services["jaeger"]["image"].startswith("jaegertracing/jaeger:2.")
    assert "healthcheck" in services["jaeger"]
    for name in AIRFLOW:
        endpoint = services[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert endpoint == "${OTEL_EXPORTER_OTLP_ENDPOINT:-http://jaeger:4318}"
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318$", example, re.M)


def test_the_deploy_guide_turns_traces_on_and_shows_one() -> None:
    guide = (ROOT / "docs/deploy.md").read_text()
    section = re.split(r"^## \d+\. Traces$", guide, flags=re.M)[1].split("\n## ", 1)[0]
    for setting in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED", "DAGSMITH_TRACES_TIMEOUT"):
        assert setting in section
    outline = [line for line in section.splitlines() if re.match(r"^ *- (run|stream) ", line)]
    assert outline, "the example trace"
