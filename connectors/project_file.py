"""The project's settings file, found without parsing it (the CLI asks on every command)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_FILE = "dagsmith.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_SECTION = "[tool.dagsmith"
ENV_VAR = "DAGSMITH_ENV"
SPECS_DIR = "pipelines"
"""The folder of a project's specs (and `dags/` beside it, for their DAG files)."""


def project_of(spec_folder: Path) -> Path:
    """The project a spec's folder belongs to: the parent of a `pipelines/` folder, else the
    folder itself."""
    return spec_folder.parent if spec_folder.name == SPECS_DIR else spec_folder


def environments_in_play(project_dir: Path) -> bool:
    """Whether an environment is selected or the project may declare some."""
    pyproject = project_dir / PYPROJECT
    return bool(
        os.environ.get(ENV_VAR)
        or (project_dir / PROJECT_FILE).is_file()
        or (pyproject.is_file() and PYPROJECT_SECTION in pyproject.read_text(encoding="utf-8"))
    )
