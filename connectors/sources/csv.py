"""CSV and TSV files, streamed with pyarrow.csv; every column is read as a string.

Types are the transform's job: reading everything as text keeps a value such as
`007` intact and stops pyarrow's per-block type inference from failing on a later
block. The header is read first, by the same pyarrow parser and dialect as the data
(so a header cell holding a quoted newline is read as one cell), to name the columns.
`skip_rows` counts lines before the header; row numbers count data rows from 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import threading
import weakref
from collections.abc import Iterator
from typing import IO, Any, Literal, cast

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.errors import SourceError
from connectors.runtime import ReadContext, log
from connectors.sources import files
from connectors.sources.csv_rows import RaggedRows
from connectors.spec.sources import CsvSource, SourceSpec

BLOCK_SIZE = 1 << 20
"""Bytes parsed at a time, and the largest row that can be read. pyarrow reads up to 32
blocks ahead on its I/O thread, so this bounds memory: 1 MiB keeps that under 40 MB
(8 MiB blocks cost 250 MB on large files) and parses as fast."""
RELEASE_WAIT = 10.0
"""Seconds to wait for pyarrow to free a file once its reader is closed (it takes µs)."""
BATCH_BYTES = 4 << 20
"""Parsed blocks are gathered into batches of about this size (at most `batch_rows`): each
batch costs the transform and the load a few milliseconds, which 1 MiB blocks would pay
over a hundred times per million rows."""


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream every file the spec names as batches of string columns."""
    if not isinstance(spec, CsvSource):
        raise TypeError(f"the csv reader cannot read a {spec.kind!r} source")
    files.check_encoding(spec.encoding)
    for location in files.expand(spec.path, ctx):
        yield from _read_file(spec, location, ctx)


def _read_file(
    spec: CsvSource, location: files.Location, ctx: ReadContext
) -> Iterator[pa.RecordBatch]:
    names = _column_names(spec, location)
    schema = pa.schema([(name, pa.string()) for name in names])
    ragged = RaggedRows(spec, location.shown, names, ctx.rejects, dialect(spec))
    rows = 0
    with files.open_binary(location, spec.compression) as raw:
        stream = CheckedBytes(raw, spec, location.shown)
        if names:
            tables = _tables(spec, stream, schema, ragged, location)
            for batch in _gathered(tables, ctx.batch_rows):
                rows += batch.num_rows
                yield batch
    if stream.odd and spec.escape is None:
        _check_quotes(spec, location)
    if not rows:
        yield files.empty_batch(schema)


def dialect(spec: CsvSource) -> dict[str, Any]:
    """The spec's format as keyword arguments of the csv module."""
    return {
        "delimiter": spec.sep,
        "quotechar": spec.quote or '"',
        "quoting": csv.QUOTE_MINIMAL if spec.quote else csv.QUOTE_NONE,
        "escapechar": spec.escape,
        "doublequote": True,
        "strict": True,
    }


def _column_names(spec: CsvSource, location: files.Location) -> list[str]:
    if spec.columns and not spec.header:
        return files.unique_names(list(spec.columns))
    first = _first_row(spec, location)
    if spec.columns:
        return files.unique_names(list(spec.columns))
    if first is None:
        log.warning("%s is empty: it has no header and no row", location.shown)
        return []
    if spec.header:
        return files.unique_names(first)
    return [f"column_{position}" for position in range(1, len(first) + 1)]


def _first_row(spec: CsvSource, location: files.Location) -> list[str | None] | None:
    """The cells of the first row (after `skip_rows`), parsed as the data will be."""
    read_options = pacsv.ReadOptions(
        use_threads=False,
        block_size=BLOCK_SIZE,
        skip_rows=spec.skip_rows,
        autogenerate_column_names=not spec.header,
    )
    with files.open_binary(location, spec.compression) as raw:
        stream = CheckedBytes(raw, spec, location.shown)
        head = io.BufferedReader(stream).read(BLOCK_SIZE)  # reads until full or the end
    if stream.error:
        raise stream.error
    try:
        # The header needs one block: from memory, pyarrow holds no Python file to free.
        memory = cast("IO[bytes]", pa.BufferReader(head))
        reader = pacsv.open_csv(memory, read_options, _parse_options(spec, _skip))
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc) or "Could not skip initial" in str(exc):
            return None
        raise _malformed(location, exc) from exc
    names: list[str | None] = list(reader.schema.names)
    reader.close()
    return names


def _skip(row: pacsv.InvalidRow) -> Literal["skip"]:
    return "skip"


def _parse_options(spec: CsvSource, handler: Any) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(
        delimiter=spec.sep,
        quote_char=spec.quote or False,
        escape_char=spec.escape or False,
        newlines_in_values=True,
        invalid_row_handler=handler,
    )


def _tables(
    spec: CsvSource,
    stream: CheckedBytes,
    schema: pa.Schema,
    ragged: RaggedRows,
    location: files.Location,
) -> Iterator[pa.Table]:
    read_options = pacsv.ReadOptions(
        use_threads=False,  # pyarrow only numbers invalid rows when parsing in order
        block_size=BLOCK_SIZE,
        skip_rows=spec.skip_rows,
        column_names=schema.names,
        skip_rows_after_names=int(spec.header),  # counts parsed rows, not lines
    )
    parse_options = _parse_options(spec, ragged.handle)
    convert_options = pacsv.ConvertOptions(
        column_types=dict(zip(schema.names, schema.types, strict=True)),
        null_values=spec.null_values,
        strings_can_be_null=True,
    )
    reader = None
    try:
        reader = pacsv.open_csv(stream.lend(), read_options, parse_options, convert_options)
        for batch in reader:
            yield ragged.merge(batch)
    except pa.ArrowInvalid as exc:
        if stream.error:
            raise stream.error from None
        if "Empty CSV file" in str(exc) or "Could not skip initial" in str(exc):
            return
        raise ragged.error() or _malformed(location, exc) from exc
    finally:
        if reader is not None:
            reader.close()
        reader = None
        stream.take_back()
    if stream.error:
        raise stream.error
    yield from ragged.flush()


def _gathered(tables: Iterator[pa.Table], rows: int) -> Iterator[pa.RecordBatch]:
    """The tables' rows, in order, in batches of at most `rows` rows and about BATCH_BYTES."""
    pending: list[pa.Table] = []
    size = count = 0
    for table in tables:
        pending.append(table)
        size, count = size + table.nbytes, count + table.num_rows
        if size >= BATCH_BYTES or count >= rows:
            yield from pa.concat_tables(pending).combine_chunks().to_batches(rows)
            pending, size, count = [], 0, 0
    if pending:
        yield from pa.concat_tables(pending).combine_chunks().to_batches(rows)


def _malformed(location: files.Location, exc: Exception) -> SourceError:
    message = files.bounded(exc)
    if "UTF8" in message:
        hint = "the file is not UTF-8: set the source's `encoding` (e.g. cp1252, latin-1)"
    elif "straddling" in message or "block" in message:
        hint = f"a row is larger than {BLOCK_SIZE >> 20} MiB, or a quote is never closed"
    else:
        hint = "check the delimiter, quote and escape settings against the file"
    return SourceError(f"{location.shown}: cannot read as CSV: {message}", hint=hint)


def _check_quotes(spec: CsvSource, location: files.Location) -> None:
    """Find an unclosed quote, which pyarrow silently runs to the end of the file."""
    with files.open_binary(location, spec.compression) as raw:
        reader = csv.reader(files.text_stream(raw, spec.encoding, location.shown), **dialect(spec))
        line = 1
        try:
            for _ in reader:
                line = reader.line_num + 1
        except csv.Error as exc:
            raise SourceError(
                f"{location.shown}: a quoted value opened at line {line} is never closed ({exc})",
                hint="close the quote, or set `quote: null` if quotes are not special here",
            ) from exc


class CheckedBytes(io.RawIOBase):
    """The bytes pyarrow parses: UTF-8 that is checked before pyarrow sees it.

    A UTF-8 file passes through unchanged (pyarrow skips its BOM itself, faster than
    transcoding) but is decoded chunk by chunk to check it; another encoding is transcoded.
    pyarrow must never meet invalid UTF-8 in a ragged row (it cannot decode the row for its
    handler) nor an exception raised on its read-ahead thread: so a fault ends the stream and
    is kept in `error`, which the reader raises in place of whatever pyarrow says about the
    cut-short input. Quote characters are counted on the way: an odd count is the cheap sign
    of an unclosed quote, which `_check_quotes` then confirms.
    """

    def __init__(self, raw: IO[bytes], spec: CsvSource, shown: str) -> None:
        super().__init__()
        utf8 = files.check_encoding(spec.encoding) == "utf-8"
        self._raw = raw if utf8 else io.BufferedReader(files.Utf8Stream(raw, spec.encoding, shown))
        self._decoder = codecs.getincrementaldecoder("utf-8")() if utf8 else None
        self._shown = shown
        self._quote = spec.quote.encode("utf-8") if spec.quote else b""
        self._quotes = self._offset = self._newlines = 0
        self._ended = False
        self._returned = threading.Event()
        self.error: SourceError | None = None

    @property
    def odd(self) -> bool:
        """Whether an odd number of quote characters passed."""
        return self._quotes % 2 == 1

    def lend(self) -> IO[bytes]:
        """A view of this stream for a pyarrow reader, which must be the view's only holder.

        The reader reads ahead on pyarrow's I/O threads, and closing it does not wait for a
        read in flight. Should that thread free the reader after Python began to exit, freeing
        the view needs the GIL and the process aborts ("terminate called without an active
        exception"): `take_back` waits until the view is freed.
        """
        view = _View(self)
        weakref.finalize(view, self._returned.set)
        return cast("IO[bytes]", view)

    def take_back(self) -> None:
        """End the stream and wait until pyarrow has freed the view (its reader is dropped)."""
        self._ended = True
        if not self._returned.wait(RELEASE_WAIT):
            log.warning("%s: pyarrow still holds the file after %s s", self._shown, RELEASE_WAIT)

    def readable(self) -> bool:
        """Always true: this is an input stream."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the wrapped stream; 0 at its end or at a fault."""
        if self.error or self._ended:
            return 0
        try:
            data = self._raw.read(len(buffer))
            self._check(data)
        except SourceError as exc:
            # Kept without tracebacks: their frames lead back (f_back) to the view pyarrow holds.
            if exc.__cause__ is not None:
                exc.__cause__.with_traceback(None)
            self.error = exc.with_traceback(None)
            return 0
        self._quotes += data.count(self._quote) if self._quote else 0
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes) -> None:
        if self._decoder is None:
            return
        held = len(self._decoder.getstate()[0])  # the start of a character cut by the chunk
        try:
            self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            at = max(exc.start - held, 0)
            line = self._newlines + data.count(b"\n", 0, at) + 1
            raise SourceError(
                f"{self._shown}: line {line} (byte {self._offset + at}) is not valid UTF-8",
                hint=files.encoding_hint(data if self._offset == 0 else b""),
            ) from exc
        self._offset += len(data)
        self._newlines += data.count(b"\n")


class _View(io.RawIOBase):
    """What pyarrow holds of a `CheckedBytes`: reads pass through to it."""

    def __init__(self, stream: CheckedBytes) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        """Always true: this is an input stream."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` from the stream."""
        return self._stream.readinto(buffer)
