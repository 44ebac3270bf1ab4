"""The report of a run, for a person and for CI: a self-contained HTML page and a JUnit XML
file of the stream's data-quality rules (docs/report.md).

`dagsmith run --report FILE --junit FILE` writes them for the streams it ran; in Airflow
each stream's task writes its own into the staging area (`StreamStage.report`) when it
loads, and logs where. Both read the run's counters only (`StreamStats`): the rejected
rows they show are the rejects table's, protected and masked already.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

import fsspec

from connectors.report import html, junit
from connectors.report.facts import stream_facts
from connectors.results import RunSummary
from connectors.spec.models import Pipeline


def write(
    summary: RunSummary, spec: Pipeline, *, page: str | None = None, tests: str | None = None
) -> None:
    """Write the HTML report to `page` and the JUnit XML to `tests` (paths or fsspec URLs).

    Raises:
        OSError: A file cannot be written.
    """
    facts = stream_facts(summary, spec)
    if page is not None:
        _write(page, html.render(summary, facts))
    if tests is not None:
        _write(tests, junit.render(summary.pipeline, facts))


def link(url: str) -> str:
    """A URL a person can open: `file://` for a local path, any other URL as it is."""
    return url if "://" in url else Path(url).resolve().as_uri()


def _write(url: str, text: str) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(posixpath.dirname(path) or ".", exist_ok=True)
    with fs.open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
