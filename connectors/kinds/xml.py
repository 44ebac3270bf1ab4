"""XML documents (`kind: xml`): each element at the record path is one record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds import files
from connectors.kinds.base import SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import XmlSource

XML: SourceKind[XmlSource] = SourceKind(
    name="xml",
    model_path="connectors.spec.files:XmlSource",
    reader_path="connectors.sources.xml:read",
    label=files.label,
    reaches=files.reaches,
    suffixes={".xml": "xml"},
    named_by=frozenset({".xml"}),
    detect_path="connectors.profiling.formats:xml_spec",
)
