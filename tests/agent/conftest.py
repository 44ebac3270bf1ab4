"""A scratch copy of the example project for agent tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The examples folder copied into a scratch project folder."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return tmp_path
