"""Excel (.xlsx) sheets, streamed with openpyxl in read-only mode.

A sheet is read twice. The first pass finds the used range (the dimensions a
file stores are often wrong, so trailing empty rows and columns are measured,
not trusted) and the kinds of value in each column. The second pass streams
the rows as batches, every column in one type for the whole sheet: dates and
datetimes stay dates and timestamps, whole numbers with decimals become floats,
and a column that mixes kinds (numbers and text, say) is text. A sheet with no value
at all is read as empty, with a warning naming the sheets that hold data: the spec says
which sheet to read, and a run does not pick another.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import islice
from typing import IO, Any

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from connectors.errors import SourceError
from connectors.runtime import ReadContext, log
from connectors.sources import files
from connectors.spec.sources import ExcelSource, SourceSpec

_KINDS: list[tuple[frozenset[type], pa.DataType]] = [
    (frozenset({bool}), pa.bool_()),
    (frozenset({int}), pa.int64()),
    (frozenset({int, float}), pa.float64()),
    (frozenset({float}), pa.float64()),
    (frozenset({datetime}), pa.timestamp("us")),
    (frozenset({date}), pa.date32()),
    (frozenset({date, datetime}), pa.timestamp("us")),
    (frozenset({time}), pa.time64("us")),
]


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the chosen sheet of every workbook the spec names."""
    if not isinstance(spec, ExcelSource):
        raise TypeError(f"the excel reader cannot read a {spec.kind!r} source")
    for location in files.expand(spec.path, ctx):
        with files.open_seekable(location, spec.compression) as handle:
            workbook = open_workbook(handle, location)
            try:
                sheet = sheet_of(workbook, spec.sheet, location)
                layout = _Layout(sheet, spec.header_row)
                if not layout.names and not holds_data(sheet):
                    _warn_empty(workbook, sheet, location)
                yield from _read_sheet(sheet, layout, ctx.batch_rows)
            finally:
                workbook.close()


def open_workbook(handle: IO[bytes], location: files.Location) -> Workbook:
    """The workbook in `handle`, read-only, with cached formula values.

    Raises:
        SourceError: It is not a readable .xlsx file.
    """
    try:
        return load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise SourceError(
            f"{location.shown} is not a readable .xlsx workbook ({files.bounded(exc)})",
            hint="save it as .xlsx (Excel 2007+); .xls and .ods are not read",
        ) from exc


def sheet_of(workbook: Workbook, sheet: str | int, location: files.Location) -> ReadOnlyWorksheet:
    """The sheet a spec names (a name, or a 0-based index), its used range measured.

    Raises:
        SourceError: The workbook has no such sheet.
    """
    names = workbook.sheetnames
    if isinstance(sheet, int) and 0 <= sheet < len(names):
        chosen: ReadOnlyWorksheet = workbook.worksheets[sheet]
    elif isinstance(sheet, str) and sheet in names:
        chosen = workbook[sheet]
    else:
        raise SourceError(
            f"{location.shown} has no sheet {sheet!r}; its sheets are: {', '.join(names)}",
            hint="set `sheet` to one of those names, or to a 0-based index",
        )
    chosen.reset_dimensions()  # stored dimensions are often stale: measure instead
    return chosen


def holds_data(sheet: ReadOnlyWorksheet) -> bool:
    """Whether any cell of the sheet holds a value (reading stops at the first)."""
    return any(_used_width(row) for row in sheet.iter_rows(values_only=True))


def sheets_with_data(workbook: Workbook) -> list[str]:
    """The names of the sheets that hold a value, in order."""
    found = []
    for sheet in workbook.worksheets:
        if isinstance(sheet, ReadOnlyWorksheet):
            sheet.reset_dimensions()
        if holds_data(sheet):
            found.append(sheet.title)
    return found


def _warn_empty(workbook: Workbook, sheet: ReadOnlyWorksheet, location: files.Location) -> None:
    others = sheets_with_data(workbook)
    log.warning(
        "%s: sheet %r is empty, %s",
        location.shown,
        sheet.title,
        f"the sheets holding data are: {', '.join(others)} (set the source's `sheet`)"
        if others
        else "as is every sheet of the workbook",
    )


class _Layout:
    """The used range below the header and the kinds of value in each column."""

    def __init__(self, sheet: ReadOnlyWorksheet, header_row: int) -> None:
        rows = sheet.iter_rows(min_row=header_row, values_only=True)
        header = list(next(rows, ()))
        self.header_row = self.last_row = header_row
        width = _used_width(header)
        kinds: dict[int, set[type]] = {}
        for number, row in enumerate(rows, start=header_row + 1):
            used = _used_width(row)
            if used:
                self.last_row, width = number, max(width, used)
            for index, value in enumerate(row[:used]):
                if value is not None and value != "":
                    kinds.setdefault(index, set()).add(_kind(value))
        header += [None] * (width - len(header))
        self.names = files.unique_names(
            [_text(v) if v is not None else None for v in header[:width]]
        )
        self.schema = pa.schema(
            [(name, _arrow_type(kinds.get(index, set()))) for index, name in enumerate(self.names)]
        )


def _used_width(row: tuple[Any, ...] | list[Any]) -> int:
    for index in range(len(row), 0, -1):
        if row[index - 1] is not None and row[index - 1] != "":
            return index
    return 0


def _kind(value: Any) -> type:
    # bool is an int and datetime is a date: test the narrower type first.
    for kind in (bool, int, float, datetime, date, time):
        if isinstance(value, kind):
            return kind
    return str


def _arrow_type(kinds: set[type]) -> pa.DataType:
    for known, dtype in _KINDS:
        if kinds == known:
            return dtype
    return pa.string()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _read_sheet(
    sheet: ReadOnlyWorksheet, layout: _Layout, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    schema, width, header_row = layout.schema, len(layout.names), layout.header_row
    if layout.last_row <= header_row or not width:
        yield files.empty_batch(schema)
        return
    rows = sheet.iter_rows(min_row=header_row + 1, max_row=layout.last_row, values_only=True)
    while block := list(islice(rows, batch_rows)):
        columns = [[_cell(row, index) for row in block] for index in range(width)]
        arrays = [
            pa.array(
                [_text(v) for v in values] if pa.types.is_string(field.type) else values,
                type=field.type,
            )
            for values, field in zip(columns, schema, strict=True)
        ]
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _cell(row: tuple[Any, ...], index: int) -> Any:
    value = row[index] if index < len(row) else None
    return None if value == "" else value
