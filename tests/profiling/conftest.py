"""Helpers of the profiling tests: profile a path, run the command line."""

from __future__ import annotations

import sys
from pathlib import Path

from connectors.profiling import Profile
from connectors.profiling.resolve import Request, profile_request

__all__ = ["SITE", "profile_path"]

SITE = (
    Path(sys.executable).parents[1] / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
)


def profile_path(
    path: Path | str, *, rows: int = 50_000, full: bool = False, quality: bool = True
) -> Profile:
    """The profile of a file, as `dagsmith profile PATH` computes it in the file's folder
    (the project folder: files elsewhere are refused)."""
    folder = Path(path).resolve().parent if "://" not in str(path) else Path.cwd()
    return profile_request(
        Request(str(path)), project_dir=folder, rows=rows, full=full, with_quality=quality
    )
