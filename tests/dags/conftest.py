"""Airflow for the DAG tests: a scratch AIRFLOW_HOME with a SQLite metadata database.

The environment is set when this file is imported, before anything imports Airflow, which
reads its configuration once. `airflow db migrate` runs once per session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HOME = Path(tempfile.mkdtemp(prefix="dagsmith-airflow-"))
DAGS_FOLDER = HOME / "dags"
DAGS_FOLDER.mkdir()
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
        "DAGSMITH_STAGING_URL": str(HOME / "staging"),
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """A migrated Airflow metadata database; the DAGs folder Airflow reads."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=300)
    yield DAGS_FOLDER
    shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Undo what a task run in this process leaves in the environment (AIRFLOW_CTX_*).

    Later tests start `dagsmith` processes, which must not believe they run inside Airflow.
    """
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
