"""Apache Parquet files, read batch by batch (row groups are never loaded whole).

A file's required (non-null) columns are non-nullable fields of its batches; the
transform and the loader keep that. Several files are read as nullable: the stream's
schema is the first file's, and a later file may allow nulls where the first did not.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.errors import SourceError
from connectors.runtime import ReadContext
from connectors.sources import files
from connectors.spec.sources import ParquetSource, SourceSpec


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream every Parquet file the spec names, with only the chosen columns."""
    if not isinstance(spec, ParquetSource):
        raise TypeError(f"the parquet reader cannot read a {spec.kind!r} source")
    locations = files.expand(spec.path, ctx)
    for location in locations:
        with files.open_seekable(location, spec.compression) as handle:
            batches = _read_file(_open(handle, location), spec.columns, location, ctx)
            yield from batches if len(locations) == 1 else map(_nullable, batches)


def _nullable(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with every field nullable (no copy)."""
    schema = batch.schema
    for index, field in enumerate(schema):
        schema = schema.set(index, field.with_nullable(True))
    return pa.RecordBatch.from_arrays(batch.columns, schema=schema)


def _open(handle: IO[bytes], location: files.Location) -> pq.ParquetFile:
    """Open a Parquet file, or fail naming it."""
    try:
        return pq.ParquetFile(handle)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(
            f"{location.shown} is not a readable Parquet file ({files.bounded(exc)})",
            hint="check the path and `kind`; a compressed file needs `compression` set",
        ) from exc


def _read_file(
    parquet: pq.ParquetFile,
    columns: list[str] | None,
    location: files.Location,
    ctx: ReadContext,
) -> Iterator[pa.RecordBatch]:
    schema = parquet.schema_arrow
    missing = [name for name in columns or [] if name not in schema.names]
    if missing:
        raise SourceError(
            f"{location.shown} has no column {', '.join(map(repr, missing))}; "
            f"its columns are: {', '.join(schema.names)}",
            hint="fix `columns` in the source spec",
        )
    if columns is not None:
        schema = pa.schema([schema.field(name) for name in columns])
    rows = 0
    for batch in parquet.iter_batches(batch_size=ctx.batch_rows, columns=columns):
        rows += batch.num_rows
        yield batch
    if not rows:
        yield files.empty_batch(schema)
