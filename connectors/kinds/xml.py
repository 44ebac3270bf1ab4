"""XML documents (`kind: xml`): each element at the record path is one record."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from connectors.kinds import files
from connectors.kinds.base import Hints, SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import XmlSource

_RECORDS = re.compile(r"\b(?:with\s+)?records?\s+(?:at|path|under)\s+([\w:/-]+)", re.IGNORECASE)


def _hints(text: str) -> Hints:
    """The record path ("records at orders/order"): an XML file cannot be read without it."""
    records = _RECORDS.search(text)
    if records is None:
        return Hints(
            question="Which element is one record of the XML file? Say 'records at orders/order'."
        )
    return Hints({"record_path": records.group(1)}, (records.span(),))


XML: SourceKind[XmlSource] = SourceKind(
    name="xml",
    model_path="connectors.spec.files:XmlSource",
    reader_path="connectors.sources.xml:read",
    label=files.label,
    reaches=files.reaches,
    datasets=files.datasets,
    suffixes={".xml": "xml"},
    named_by=frozenset({".xml"}),
    detect_path="connectors.profiling.formats:xml_spec",
    hints=_hints,
)
