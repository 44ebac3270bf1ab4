"""Source readers, one module per kind, found by the spec's `kind`.

A reader is `read(spec, ctx) -> Iterator[pyarrow.RecordBatch]`: batches of at most
`ctx.batch_rows` rows, never the whole source in memory, and at least one batch
(possibly empty, with the columns) so an empty source still has a schema.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Protocol

import pyarrow as pa

from connectors.errors import SourceError
from connectors.runtime import ReadContext
from connectors.spec.sources import SourceSpec

READERS: dict[str, str] = {
    "csv": "connectors.sources.csv",
    "tsv": "connectors.sources.csv",
    "json": "connectors.sources.json",
    "jsonl": "connectors.sources.json",
    "excel": "connectors.sources.excel",
    "xml": "connectors.sources.xml",
    "parquet": "connectors.sources.parquet",
    "rest": "connectors.sources.rest",
    "sql": "connectors.sources.sql",
}


class Reader(Protocol):
    """The shape of a source module's entry point."""

    def __call__(self, spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]: ...


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the batches of any source."""
    try:
        module = importlib.import_module(READERS[spec.kind])
    except KeyError:
        raise SourceError(
            f"unknown source kind {spec.kind!r}; known kinds: {', '.join(sorted(READERS))}"
        ) from None
    reader: Reader = module.read
    return reader(spec, ctx)
