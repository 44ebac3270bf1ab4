"""Source readers, one module per kind, found through the kind's registry entry.

A reader is `read(spec, ctx) -> Iterator[pyarrow.RecordBatch]`: batches of at most
`ctx.batch_rows` rows, never the whole source in memory, and at least one batch
(possibly empty, with the columns) so an empty source still has a schema. Each kind in
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
