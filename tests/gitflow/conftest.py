"""A real git repository holding a dagsmith project, for `review` and `pr` tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBJECT = (
    "Add pipeline orders_daily: data/orders.csv -> orders (upsert on order_id), daily at 06:00"
)
"""The title of a pull request for examples/orders.yaml."""
SECTIONS = (
    "## Summary",
    "## Risk flags",
    "### Source profile",
    "### Schema",
    "### Transforms",
    "### Target and mode",
    "### Schedule",
    "### Dry run",
    "### Check",
)
"""The sections of its body, in order."""


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` and return its output; a failure fails the test."""
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def commit_all(repo: Path, message: str) -> str:
    """Stage everything, commit, and return the new commit's hash."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository on branch main with the example data and one commit (no pipeline yet)."""
    return make_repo(tmp_path / "shop")


def make_repo(root: Path) -> Path:
    """`root` made the repository of the `repo` fixture."""
    shutil.copytree(ROOT / "examples" / "data", root / "data")
    git(root.parent, "init", "-q", "-b", "main", str(root))
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "commit.gpgsign", "false")
    (root / ".gitignore").write_text(".dagsmith/\n", encoding="utf-8")
    commit_all(root, "data")
    return root
