"""Where a generated DAG finds its project and its spec's folder, when parsed and when run.

By default the project is the parent of the DAGs folder and relative source paths start at
the spec's folder as rendered (`SPEC_DIR`, relative to the DAG file); a deployment that
puts them elsewhere sets `DAGSMITH_PROJECT_DIR` / `DAGSMITH_BASE_DIR`.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR_ENV = "DAGSMITH_BASE_DIR"
PROJECT_DIR_ENV = "DAGSMITH_PROJECT_DIR"


def project_dir(dag_file: str) -> Path:
    """The project folder: the `.env`, the embedded DuckDB file and the project's specs."""
    return Path(os.environ.get(PROJECT_DIR_ENV) or Path(dag_file).resolve().parent.parent)


def base_dir(dag_file: str, spec_dir: str) -> Path:
    """The folder a spec's relative paths start from."""
    here = Path(dag_file).resolve().parent
    return Path(os.environ.get(BASE_DIR_ENV) or here / spec_dir).resolve()
