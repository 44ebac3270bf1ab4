"""A real headless browser for the report tests: Debian's Chromium (`apt-get install
chromium`; `.ci/run` installs it), driven by Playwright, which never downloads a browser of
its own here. Screenshots go to the artifacts folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_ENV = "DAGSMITH_ARTIFACTS"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium; the test is skipped, saying why, where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    """Where test artifacts (screenshots) are kept: `$DAGSMITH_ARTIFACTS`, else artifacts/."""
    folder = Path(os.environ.get(ARTIFACTS_ENV) or Path(__file__).parents[2] / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
