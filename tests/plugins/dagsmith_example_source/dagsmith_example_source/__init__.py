"""A third-party source kind, as a package publishes one: `kind: lines`, a plain text file
read one row per line (column `line`).

The package declares `LINES` under the `dagsmith.sources` entry point group (pyproject.toml).
dagsmith loads it while it builds the spec's models, so this module imports only
`connectors.kinds.base` and `connectors.spec.files` (not `connectors.spec`); the reader is
named by path and imported when a pipeline first reads a `lines` source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connectors.kinds.base import SourceKind
from connectors.kinds.files import label, reaches
from connectors.spec.files import FileSource


class LinesSource(FileSource):
    """A text file; each line is one row of the column `line`."""

    kind: Literal["lines"]
    encoding: str = Field(default="utf-8", description="Text encoding of the file.")


LINES: SourceKind[LinesSource] = SourceKind(
    name="lines",
    model_path="dagsmith_example_source:LinesSource",
    reader_path="dagsmith_example_source.reader:read",
    label=label,
    reaches=reaches,
    suffixes={".lines": "lines"},
)
