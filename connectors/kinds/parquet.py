"""Apache Parquet files (`kind: parquet`): their footers give exact row counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds import files
from connectors.kinds.base import SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import ParquetSource

PARQUET: SourceKind[ParquetSource] = SourceKind(
    name="parquet",
    model_path="connectors.spec.files:ParquetSource",
    reader_path="connectors.sources.parquet:read",
    label=files.label,
    reaches=files.reaches,
    datasets=files.datasets,
    sampler_path="connectors.profiling.sample:parquet",
    suffixes={".parquet": "parquet", ".pq": "parquet"},
    named_by=frozenset({".parquet"}),
)
