"""What every file kind shares: its label is its path, and its path is all it reaches."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from connectors.kinds.base import Reach
from connectors.lineage import names

if TYPE_CHECKING:
    from connectors.connections import Connection
    from connectors.spec.files import FileSource


def label(spec: FileSource) -> str:
    """The path or URL, as the spec names it."""
    return spec.path


def reaches(spec: FileSource) -> Reach:
    """The path or URL (a glob as written)."""
    return Reach(locations=(spec.path,))


def datasets(
    spec: FileSource, _connection: Connection | None, base_dir: Path
) -> tuple[names.DatasetName, ...]:
    """The file (or glob, as written) as a path from the spec's folder, or its URL."""
    path = spec.path
    if "://" not in path:
        path = str((base_dir / path).resolve())
    return (names.location(path),)
