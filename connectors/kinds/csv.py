"""Delimited text (`kind: csv`, `kind: tsv`): sampled by byte ranges when large."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds import files, text_hints
from connectors.kinds.base import SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import CsvSource

CSV: SourceKind[CsvSource] = SourceKind(
    name="csv",
    model_path="connectors.spec.files:CsvSource",
    reader_path="connectors.sources.csv:read",
    label=files.label,
    reaches=files.reaches,
    datasets=files.datasets,
    sampler_path="connectors.profiling.sample:csv",
    suffixes={".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv"},
    named_by=frozenset({".csv", ".tsv"}),
    detect_path="connectors.profiling.formats:csv_spec",
    hints=text_hints.combined(text_hints.encoding, text_hints.delimiter, text_hints.header),
)
