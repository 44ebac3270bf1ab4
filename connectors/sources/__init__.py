"""Source readers, one module per kind, found through the kind's registry entry.

A reader is `read(spec, ctx) -> Iterator[pyarrow.RecordBatch]`: batches of at most
`ctx.batch_rows` rows, never the whole source in memory, and at least one batch
(possibly empty, with the columns) so an empty source still has a schema; a stream that
was quiet (a topic or a feed with nothing new) gives no batch at all. Each kind in
`connectors.kinds` names its reader; it is imported when the kind is first read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from connectors import kinds
from connectors.errors import SourceError, SpecError
from connectors.runtime import ReadContext
from connectors.spec.sources import SourceSpec


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the batches of any source."""
    try:
        kind = kinds.kind_of(spec)
    except SpecError as exc:
        raise SourceError(exc.message, hint=exc.hint) from None
    return kind.read(spec, ctx)


def quiet_aware(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """A stream's batches, without the column-less empty batch of a quiet window: the
    transform then makes the columns the spec names, where an empty file is refused."""
    for batch in batches:
        if batch.num_rows or batch.num_columns:
            yield batch
