"""Every Airflow run of a stream writes its run report and JUnit XML into the staging area,
out of what the load cleans, and its load task's log says where: after a commit, and after
a load that failed (which is when a person reads it)."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from junitparser import Error, JUnitXml

from connectors.staging import REPORTS
from tests.conftest import Database
from tests.dags.airflow_helpers import deploy, logged, run, unique
from tests.dags.conftest import HOME
from tests.report.people import CLEAR, PEOPLE, digest, key_setting, spec_yaml

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]


def _deploy(project: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    """The project's data and settings; a DAG id of its own."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting())
    (project / "pipelines").mkdir(parents=True)
    (project / "pipelines" / "people.csv").write_text(PEOPLE, encoding="utf-8")
    return unique("report")


def _reports(dag_id: str) -> tuple[str, str]:
    """The one run's report page and JUnit XML, from the staging area."""
    (page,) = (HOME / "staging" / REPORTS / dag_id).glob("*/people.html")
    tests = page.with_name("people.junit.xml")
    return page.read_text(encoding="utf-8"), tests.read_text(encoding="utf-8")


def test_a_dag_run_keeps_its_report_and_logs_where(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag_id = _deploy(tmp_path, postgres, monkeypatch)
    spec = spec_yaml(dag_id, postgres.table("people"), target="warehouse")
    with logged() as lines:
        state, tis = run(deploy(tmp_path, spec))
    assert state == "success", {k: ti.state for k, ti in tis.items()}

    page, xml = _reports(dag_id)
    # The staged data is gone, the report stays; the load's log links to both files.
    assert not list((HOME / "staging" / dag_id).rglob("*.parquet"))
    ((page_url, tests_url),) = [
        found.groups()
        for line in lines
        if (found := re.fullmatch(r"run report: (file:///\S+) \(JUnit XML: (file:///\S+)\)", line))
    ]
    assert f"/staging/{REPORTS}/{dag_id}/" in page_url and page_url.endswith("/people.html")
    assert tests_url == page_url.replace(".html", ".junit.xml")

    tree = lxml.html.fromstring(page)
    tiles = {
        tile.findtext("dt"): tile.findtext("dd")
        for tile in tree.xpath("//div[contains(@class, 'tile')]")
    }
    assert {k: tiles[k] for k in ("read", "rejected", "loaded")} == {
        "read": "5",
        "rejected": "3",
        "loaded": "2",
    }
    # Each task timed its own phase; the lineage comes from the transform's staged columns.
    phases = tree.xpath("//table[contains(@class, 'timings')]/tbody/tr/td[1]/text()")
    assert phases == ["extract", "transform", "load"]
    assert len(tree.xpath("//*[contains(@class, 'edge')]")) == 5
    assert "row 3" in page and digest("cy@example.net") in page
    for text in (page, xml):
        assert not [clear for clear in CLEAR if clear in text]
    (suite,) = JUnitXml.fromstring(xml.encode())
    assert suite.name == f"{dag_id}.people"
    assert (suite.tests, suite.failures, suite.errors) == (4, 3, 0)


def test_a_failed_load_leaves_its_report_with_the_error(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag_id = _deploy(tmp_path, postgres, monkeypatch)
    spec = spec_yaml(
        dag_id, postgres.table("people"), target="warehouse", extra="\n      max_rejects: 1"
    )
    state, tis = run(deploy(tmp_path, spec))
    assert state == "failed"
    assert tis["stream_people"].state == "failed"

    page, xml = _reports(dag_id)
    error = lxml.html.fromstring(page).xpath("//pre[contains(@class, 'error')]")[0].text_content()
    assert "3 of 5 rows rejected" in error
    (suite,) = JUnitXml.fromstring(xml.encode())
    (outcome,) = next(case for case in suite if case.name == "load").result
    assert isinstance(outcome, Error) and outcome.type == "RejectLimitExceeded"
