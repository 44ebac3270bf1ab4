"""What every file kind shares: its label is its path, and its path is all it reaches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds.base import Reach

if TYPE_CHECKING:
    from connectors.spec.files import FileSource


def label(spec: FileSource) -> str:
    """The path or URL, as the spec names it."""
    return spec.path


def reaches(spec: FileSource) -> Reach:
    """The path or URL (a glob as written)."""
    return Reach(locations=(spec.path,))
