"""A project per staged incident: its folder as the working folder, its target database,
and a loopback REST API (connection `api`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Database
from tests.incidents.harness import CONNECTION, Project
from tests.sources_rest.conftest import api_server


@pytest.fixture
def project_on(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[object]:
    """`project_on(TARGET, NAME)`: incident NAME's project, loading into the database
    fixture TARGET."""
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    # Run markers and staged files stay in the test's folder, where `diagnose` looks too.
    monkeypatch.setenv("DAGSMITH_STAGING_URL", str(tmp_path / "staging-area"))
    with api_server(monkeypatch) as api:

        def on(target: str, name: str) -> Project:
            db: Database = request.getfixturevalue(target)
            monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTION.upper()}", db.url.render_as_string(False))
            return Project(tmp_path, db, api, name)

        yield on
