"""The report page in a real browser (headless Chromium): it renders with no console error,
fetches nothing, runs nothing; its numbers and lineage graph are on screen; markup from the
data shows as text. A screenshot of it is kept in the artifacts folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from connectors import report
from connectors.runner import run_pipeline
from connectors.spec import load_spec
from tests.report.people import CLEAR, key_setting, write_project

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_the_report_renders_in_chromium(
    tmp_path: Path, browser: Browser, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_PII_KEY", key_setting())
    spec_path = write_project(tmp_path, "people_browser", "people")
    spec = load_spec(spec_path)
    summary = run_pipeline(spec, base_dir=tmp_path, project_dir=tmp_path)
    page_path = tmp_path / "report.html"
    report.write(summary, spec, page=str(page_path))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda dialog: problems.append(f"a dialog opened: {dialog.message}"))
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(page_path.as_uri(), wait_until="load")
    try:
        assert page.title() == "dagsmith run report: people_browser"
        tile = page.locator(".tile.rejected dd")
        assert tile.is_visible() and tile.inner_text() == "3"
        assert page.locator(".tile.loaded dd").inner_text() == "2"
        graph = page.locator("svg.lineage")
        assert graph.is_visible()
        box = graph.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 150
        assert page.locator("svg.lineage g.edge").count() == 5
        assert page.locator("svg.lineage g.node text", has_text="<b>Name</b>").is_visible()
        assert page.get_by_text("'<script>x</script>' is not a valid bigint").is_visible()
        assert page.locator("script, img").count() == 0
        text = page.locator("body").inner_text()
        assert not [clear for clear in CLEAR if clear in text]
        shot = artifacts / "report-people.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert problems == []
    assert fetched == [page_path.as_uri()]
    assert shot.stat().st_size > 10_000
    shutil.copy(page_path, artifacts / "report-people.html")
