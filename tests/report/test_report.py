"""The run report of real runs of a hostile file (`people`): into the embedded DuckDB, into
PostgreSQL, and through `dagsmith run --report --junit`. Counts, rules, reasons with their
sample rows, timings and lineage are all there; markup from the data is text, never markup;
a protected column's clear values show nowhere, in the page or in the JUnit XML."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from connectors import report
from connectors.results import RunSummary
from connectors.runner import run_pipeline
from connectors.spec import load_spec
from tests.conftest import Cli, Database
from tests.report.people import CLEAR, digest, key_setting, write_project


@pytest.fixture(autouse=True)
def _hash_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting())


def _run(spec_path: Path, out: Path) -> tuple[RunSummary, str, str]:
    """Run the spec in its folder; its report and JUnit XML as text."""
    spec = load_spec(spec_path)
    summary = run_pipeline(spec, base_dir=spec_path.parent, project_dir=spec_path.parent)
    page, tests = out / "run.html", out / "nested" / "run.junit.xml"
    report.write(summary, spec, page=str(page), tests=str(tests))
    return summary, page.read_text(encoding="utf-8"), tests.read_text(encoding="utf-8")


def _texts(page: str, xpath: str) -> list[str]:
    return [node.text_content().strip() for node in lxml.html.fromstring(page).xpath(xpath)]


def _rows(page: str, table: str) -> list[list[str]]:
    """The cells of a table's body rows."""
    rows = lxml.html.fromstring(page).xpath(f"//table[{of(table)}]/tbody/tr")
    return [[td.text_content().strip() for td in row.xpath("td")] for row in rows]


def of(kind: str) -> str:
    """An XPath test: the element has the class `kind`."""
    return f"contains(concat(' ', @class, ' '), ' {kind} ')"


def test_the_report_of_a_run_into_the_embedded_duckdb(tmp_path: Path) -> None:
    spec_path = write_project(tmp_path / "project", "people_report", "people")
    summary, page, xml = _run(spec_path, tmp_path / "out")
    assert summary.ok

    assert page.startswith("<!DOCTYPE html>")
    tiles = dict(
        zip(
            _texts(page, f"//*[{of('tile')}]/dt"),
            _texts(page, f"//*[{of('tile')}]/dd"),
            strict=True,
        )
    )
    assert {k: tiles[k] for k in ("read", "filtered", "rejected", "loaded")} == {
        "read": "5",
        "filtered": "0",
        "rejected": "3",
        "loaded": "2",
    }
    assert _rows(page, "rules") == [
        ["type", "id bigint, amount decimal(8,2)", "1", "failed"],
        ["required", "name", "1", "failed"],
        ["range", "amount", "1", "failed"],
    ]
    reasons = [row[2] for row in _rows(page, "reasons")]
    assert "column 'amount': … is below the minimum 0" in reasons
    assert "column 'id': … is not a valid bigint" in reasons
    assert [row[0] for row in _rows(page, "timings")] == ["extract", "transform", "load"]

    # The lineage graph: every source column, each loaded one with what happened on the way.
    tree = lxml.html.fromstring(page)
    (svg,) = tree.xpath(f"//svg[{of('lineage')}]")
    names = [t.text for t in svg.xpath(f"g[{of('node')}]/title")]
    assert names[:5] == ["id", "<b>Name</b>", "email", "amount", "note"]
    edges = [t.text for t in svg.xpath(f"g[{of('edge')}]/text")]
    assert "rename" in edges[1] and "cast bigint" in edges[0] and "hash" in edges[2]

    # Markup from the data is text: no element came from it, and it reads as written.
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not tree.xpath("//script | //img | //b")
    assert any("<script>x</script>" in text for text in _texts(page, f"//*[{of('why')}]"))

    # Protected values: their hashes, never the values.
    for text in (page, xml):
        assert not [clear for clear in CLEAR if clear in text]
    assert digest("bob@example.org") in page

    suites = list(JUnitXml.fromstring(xml.encode()))
    assert [s.name for s in suites] == ["people_report.people"]
    cases = {case.name: case for case in suites[0]}
    assert list(cases) == ["type", "required", "range", "load"]
    failure = cases["range"].result[0]
    assert isinstance(failure, Failure)
    assert failure.message.startswith("1 row(s) rejected by range, in people__rejects; first")
    assert "row 2" in failure.message and "-3" in failure.message
    assert cases["load"].is_passed
    assert (suites[0].tests, suites[0].failures, suites[0].errors) == (4, 3, 0)
    properties = {p.name: p.value for p in suites[0].properties()}
    assert (properties["rows_read"], properties["rows_loaded"]) == ("5", "2")


def test_a_failed_stream_is_reported_with_its_error(tmp_path: Path) -> None:
    spec_path = write_project(
        tmp_path / "project", "people_failed", "people", extra="\n      max_rejects: 1"
    )
    summary, page, xml = _run(spec_path, tmp_path / "out")
    assert not summary.ok
    assert _texts(page, f"//h2/*[{of('status')}]") == ["failed"]
    (error,) = _texts(page, f"//pre[{of('error')}]")
    assert "3 of 5 rows rejected" in error and "max_rejects is 1" in error
    (suite,) = JUnitXml.fromstring(xml.encode())
    load = next(case for case in suite if case.name == "load")
    (outcome,) = load.result
    assert isinstance(outcome, Error)
    assert outcome.type == "RejectLimitExceeded"
    assert "3 of 5 rows rejected" in (outcome.message or "")
    # The failed load rolled its rejected rows back: neither the page nor the tests say they
    # are in the rejects table.
    (caption,) = _texts(page, f"//table[{of('rules')}]/caption")
    assert caption == (
        "Rejected rows are not kept: the failed load rolled them back (not in people__rejects)."
    )
    failure = next(case for case in suite if case.name == "range").result[0]
    assert "rejected by range, not kept: the failed load rolled them back" in failure.message


def test_rules_of_a_stream_that_read_nothing_did_not_run(tmp_path: Path) -> None:
    spec_path = write_project(tmp_path / "project", "people_gone", "people")
    (spec_path.parent / "people.csv").unlink()
    summary, page, xml = _run(spec_path, tmp_path / "out")
    assert not summary.ok
    assert [row[-1] for row in _rows(page, "rules")] == ["not run"] * 3
    (suite,) = JUnitXml.fromstring(xml.encode())
    outcomes = {case.name: case.result for case in suite}
    assert all(isinstance(outcomes[rule][0], Skipped) for rule in ("type", "required", "range"))
    assert isinstance(outcomes["load"][0], Error)


def test_the_report_of_a_run_into_postgres(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    table = postgres.table("people")
    spec_path = write_project(tmp_path / "project", "people_pg", table, target="warehouse")
    summary, page, xml = _run(spec_path, tmp_path / "out")
    assert summary.ok
    assert "target postgresql+psycopg2://" in _texts(page, f"//p[{of('meta')}]")[0]
    (overview,) = _rows(page, "overview")
    assert overview[:-1] == ["people", table, "append", "ok", "5", "0", "3", "2"]
    for text in (page, xml):
        assert not [clear for clear in CLEAR if clear in text]
    (suite,) = JUnitXml.fromstring(xml.encode())
    assert (suite.failures, suite.errors) == (3, 0)


def test_dagsmith_run_writes_the_report_and_junit_it_is_asked_for(
    tmp_path: Path, dagsmith: Cli
) -> None:
    write_project(tmp_path, "people_cli", "people")
    result = dagsmith(
        "run", "people.yaml", "--report", "out/run.html", "--junit", "out/junit.xml", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "report: out/run.html" in result.stdout
    assert "JUnit XML: out/junit.xml" in result.stdout
    page = (tmp_path / "out" / "run.html").read_text(encoding="utf-8")
    assert _texts(page, "//h1") == ["dagsmith run report: people_cli"]
    (suite,) = JUnitXml.fromfile(str(tmp_path / "out" / "junit.xml"))
    assert (suite.tests, suite.failures) == (4, 3)

    bad = dagsmith("run", "people.yaml", "--report", "people.csv/x.html", cwd=tmp_path)
    assert bad.returncode == 1
    assert "cannot write the run report" in bad.stderr
