"""The spec's source: a union of every registered kind's model, told apart by `kind`.

The union is built from `connectors.kinds`, so a plugin's kind is a spec source like
dagsmith's own; the file models live in `connectors.spec.files`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from connectors import kinds
from connectors.spec.base import SourceModel
from connectors.spec.files import (
    CsvSource,
    ExcelSource,
    FileSource,
    JsonlSource,
    JsonSource,
    ParquetSource,
    XmlSource,
)

if TYPE_CHECKING:
    SourceSpec: TypeAlias = SourceModel
else:
    SourceSpec = kinds.source_union()
"""Any source; `kind` picks the model."""

__all__ = [
    "CsvSource",
    "ExcelSource",
    "FileSource",
    "JsonSource",
    "JsonlSource",
    "ParquetSource",
    "SourceModel",
    "SourceSpec",
    "XmlSource",
]
