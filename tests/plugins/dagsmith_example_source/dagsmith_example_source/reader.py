"""The `lines` reader: Arrow batches of at most `ctx.batch_rows` lines, never the whole file."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from connectors.runtime import ReadContext
from connectors.sources import files
from dagsmith_example_source import LinesSource

SCHEMA = pa.schema([pa.field("line", pa.string())])


def read(spec: LinesSource, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Every line of every file the path names, in order, without its line break."""
    rows: list[str] = []
    for location in files.expand(spec.path, ctx):
        with files.open_binary(location, spec.compression) as raw:
            for line in files.text_stream(raw, spec.encoding, location.shown):
                rows.append(line.rstrip("\r\n"))
                if len(rows) == ctx.batch_rows:
                    yield pa.RecordBatch.from_pydict({"line": rows}, schema=SCHEMA)
                    rows = []
    yield pa.RecordBatch.from_pydict({"line": rows}, schema=SCHEMA)
