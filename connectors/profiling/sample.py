"""Bounded samples of a source: the rows a profile looks at, and how many there are.

Each source kind names its sampler (`SourceKind.sampler_path`). Small sources are read
whole (exact counts). A large, uncompressed CSV is sampled by byte ranges: its head
through the source's own reader, then evenly spread slices and the tail, each read with
a seek, so the cost does not grow with the file. Other sources are read from the head
until the sample is full (`head`); Parquet footers count its rows; SQL tables have their
own strategy (`sample_sql`), REST APIs theirs (`connectors.profiling.rest`).
`full=True` reads everything.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from connectors import kinds
from connectors.profiling import sample_sql
from connectors.profiling.model import Count
from connectors.runtime import ReadContext
from connectors.sources import files
from connectors.spec.sources import CsvSource, ParquetSource, SourceSpec
from connectors.spec.sql import SqlSource

SAMPLE_ROWS = 50_000
SLICES = 16
SLICE_BYTES = 1 << 20
SPREAD_FROM = 64 << 20
"""CSV files larger than this (bytes) are sampled by byte ranges rather than read whole."""


@dataclass(frozen=True)
class Sample:
    """Sampled rows (in source order), the source's row count, and how they were taken."""

    table: pa.Table
    rows: Count
    method: str
    spec: SourceSpec | None = None
    """The source as sampling completed it (a REST source's records path, pagination)."""
    found: dict[str, Any] = field(default_factory=dict)
    """What sampling found, reported in the profile's `format` section."""


def take(spec: SourceSpec, ctx: ReadContext, rows: int = SAMPLE_ROWS, full: bool = False) -> Sample:
    """A sample of at most `rows` rows (all rows when `full`), by the kind's sampler.

    Raises:
        SpecError: The spec is of no registered kind.
    """
    return kinds.kind_of(spec).sample(spec, ctx, rows, full)


def head(spec: SourceSpec, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """The first rows, through the source's reader; counted when it ends within them."""
    table, exhausted = sample_sql.head(spec, ctx, None if full else rows)
    count = Count(table.num_rows, estimated=False) if exhausted else Count(None, estimated=True)
    return Sample(table, count, "full" if exhausted else "head")


def csv(spec: CsvSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """A large, uncompressed, single CSV file by byte ranges; any other from its head."""
    if not full:
        location = _single_file(spec, ctx)
        if location is not None and location.fs.size(location.path) > SPREAD_FROM:
            return _csv_spread(spec, ctx, location, rows)
    return head(spec, ctx, rows, full)


def parquet(spec: ParquetSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """From the head; the footers hold the exact row count."""
    taken = head(spec, ctx, rows, full)
    if taken.rows.value is not None:
        return taken
    total = 0
    for location in files.expand(spec.path, ctx):
        with files.open_seekable(location, spec.compression) as handle:
            total += pq.ParquetFile(handle).metadata.num_rows
    return Sample(taken.table, Count(total, estimated=False), taken.method)


def sql(spec: SqlSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """By the database's own sampling, or from the head (`sample_sql`)."""
    table, count, method = sample_sql.take(spec, ctx, rows, full)
    return Sample(table, count, method)


def _single_file(spec: CsvSource, ctx: ReadContext) -> files.Location | None:
    found = files.expand(spec.path, ctx)
    if len(found) != 1 or files.compression_of(found[0], spec.compression) is not None:
        return None  # globs and compressed files cannot be sliced: read from the head
    if files.check_encoding(spec.encoding).startswith(("utf-16", "utf-32")):
        return None  # a newline byte is no line boundary in UTF-16
    return found[0]


def _csv_spread(spec: CsvSource, ctx: ReadContext, location: files.Location, rows: int) -> Sample:
    size = location.fs.size(location.path)
    first, _ = sample_sql.head(spec, ctx, rows // 3)
    parts, read_bytes, parsed = [first], 0, 0
    per_slice = max(1, (rows - first.num_rows) // (SLICES + 1))
    tail = max(0, size - SLICE_BYTES)
    with location.fs.open(location.path, "rb") as handle:
        for start in [size * (i + 1) // (SLICES + 1) for i in range(SLICES)] + [tail]:
            handle.seek(start)
            chunk = handle.read(SLICE_BYTES)
            table = _parse_slice(chunk, spec, first.schema)
            if table is None or not table.num_rows:
                continue
            read_bytes, parsed = read_bytes + len(chunk), parsed + table.num_rows
            keep_from = max(0, table.num_rows - per_slice) if start == tail else 0
            parts.append(table.slice(keep_from, per_slice))
    estimate = int(size / (read_bytes / parsed)) if parsed else None
    return Sample(pa.concat_tables(parts), Count(estimate, True), "head+spread+tail")


def _parse_slice(chunk: bytes, spec: CsvSource, schema: pa.Schema) -> pa.Table | None:
    """The whole rows of a byte slice: cut at the first and last newline, then parsed.

    A slice may start inside a quoted value holding a newline; such a slice parses into
    rows of the wrong width, which are skipped, and the next newline is tried.
    """
    end = chunk.rfind(b"\n")
    start = chunk.find(b"\n")
    for _ in range(3):
        if start < 0 or start >= end:
            return None
        body = _utf8(chunk[start + 1 : end + 1], spec.encoding)
        table, bad = _parse_text(body, spec, schema)
        if table is not None and bad <= table.num_rows // 20:
            return table
        start = chunk.find(b"\n", start + 1)
    return None


def _parse_text(body: bytes, spec: CsvSource, schema: pa.Schema) -> tuple[pa.Table | None, int]:
    bad = 0

    def skip(_: Any) -> Literal["skip"]:
        nonlocal bad
        bad += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=schema.names, use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=spec.sep,
                quote_char=spec.quote or False,
                escape_char=spec.escape or False,
                newlines_in_values=True,
                invalid_row_handler=skip,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=schema, null_values=spec.null_values, strings_can_be_null=True
            ),
        )
    except pa.ArrowInvalid:
        return None, 0
    return table, bad


def _utf8(data: bytes, encoding: str) -> bytes:
    # Even UTF-8 is decoded: pyarrow must not meet invalid bytes in a row it skips.
    return data.decode(files.check_encoding(encoding), errors="replace").encode("utf-8")
