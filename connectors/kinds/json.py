"""JSON documents (`kind: json`, records found by path) and JSON lines (`kind: jsonl`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds import files, text_hints
from connectors.kinds.base import SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import JsonlSource, JsonSource

JSON: SourceKind[JsonSource] = SourceKind(
    name="json",
    model_path="connectors.spec.files:JsonSource",
    reader_path="connectors.sources.json:read",
    label=files.label,
    reaches=files.reaches,
    datasets=files.datasets,
    suffixes={".json": "json"},
    named_by=frozenset({".json"}),
    detect_path="connectors.profiling.formats:json_spec",
    hints=text_hints.combined(text_hints.encoding, text_hints.records_path),
)

JSONL: SourceKind[JsonlSource] = SourceKind(
    name="jsonl",
    model_path="connectors.spec.files:JsonlSource",
    reader_path="connectors.sources.json:read",
    label=files.label,
    reaches=files.reaches,
    datasets=files.datasets,
    suffixes={".jsonl": "jsonl", ".ndjson": "jsonl"},
    named_by=frozenset({".jsonl", ".ndjson"}),
    hints=text_hints.encoding,
)
