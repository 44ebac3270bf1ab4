"""Helpers of the profiling tests: profile a path, run the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connectors.profiling import Profile
from connectors.profiling.resolve import Request, profile_request

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))
SITE = (
    Path(sys.executable).parents[1] / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
)


def profile_path(
    path: Path | str, *, rows: int = 50_000, full: bool = False, quality: bool = True
) -> Profile:
    """The profile of a file, as `dagsmith profile PATH` computes it."""
    return profile_request(
        Request(str(path)), project_dir=Path.cwd(), rows=rows, full=full, with_quality=quality
    )


def dagsmith(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The command line as a user runs it."""
    return subprocess.run(
        [DAGSMITH, *args],
        cwd=cwd,
        env={**os.environ, **(env or {}), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
