"""Where an Excel sheet's table is: which sheet, and which row holds the column names.

Workbooks made by people put a title, a note or a blank row above the table, and leave a
first sheet empty (a cover) with the data on the next. Profiling finds both for the
options a spec leaves out (`sheet`, `header_row`), so that a spec drafted from the profile
reads the table; an option the spec sets is kept as set.

The sheet is the first one when it holds a value, else the first sheet that does. The
header is the first row, among the first `HEAD_ROWS`, that
- holds at least two cells, each a label (text, or a whole number such as a year), no two
  alike,
- has a value in every column that most of the rows under it use, and
- has only sparse rows above it: each blank or a note, with one cell or at most half as
  many cells as the header (a title, a date, "Source: ...").
Without such a row, the header is the first row that holds a value: a sheet whose first
row is its header reads as before, whatever its labels.
"""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from connectors.profiling.sample import Sample, head
from connectors.runtime import ReadContext
from connectors.sources import excel, files
from connectors.spec.sources import ExcelSource

HEAD_ROWS = 50
"""Rows of a sheet's top the header is looked for in."""
BELOW = 10
"""Rows under a candidate header whose columns it must name."""


def sample(spec: ExcelSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """The sheet's rows from its header down, the sheet and header found where the spec
    leaves them out; what was found is reported (`sheet`, `header_row`)."""
    found, findings = locate(spec, ctx)
    taken = head(found, ctx, rows, full)
    return Sample(taken.table, taken.rows, taken.method, spec=found, found=findings)


def locate(spec: ExcelSource, ctx: ReadContext) -> tuple[ExcelSource, dict[str, Any]]:
    """The spec with the sheet and header row of its (first) workbook's table, for the
    options it leaves out, and what was found, in words."""
    given = spec.model_fields_set
    if {"sheet", "header_row"} <= given:
        return spec, {}
    location = files.expand(spec.path, ctx)[0]
    update: dict[str, Any] = {}
    findings: dict[str, Any] = {}
    with files.open_seekable(location, spec.compression) as handle:
        workbook = excel.open_workbook(handle, location)
        try:
            sheet = excel.sheet_of(workbook, spec.sheet, location)
            if "sheet" not in given and not excel.holds_data(sheet):
                filled = excel.sheets_with_data(workbook)
                if filled:
                    update["sheet"] = filled[0]
                    findings["sheet"] = f"{filled[0]} (the first sheet, {sheet.title}, is empty)"
                    sheet = excel.sheet_of(workbook, filled[0], location)
            if "header_row" not in given:
                update["header_row"], why = header_row(sheet)
                if update["header_row"] != 1:
                    findings["header_row"] = why
        finally:
            workbook.close()
    return spec.model_copy(update=update), findings


def header_row(sheet: ReadOnlyWorksheet) -> tuple[int, str]:
    """The 1-based row holding the column names (see the module's rule), and why."""
    rows = [_cells(row) for row in sheet.iter_rows(max_row=HEAD_ROWS, values_only=True)]
    filled = [number for number, cells in enumerate(rows) if cells]
    if not filled:
        return 1, "row 1 (the sheet is empty)"
    for number in filled:
        cells = rows[number]
        if _labels(cells) and _covers(cells, rows[number + 1 :]):
            above = [rows[n] for n in filled if n < number]
            if all(len(row) == 1 or 2 * len(row) <= len(cells) for row in above):
                return number + 1, _why(number, above)
    return filled[0] + 1, f"row {filled[0] + 1}: the first row that holds a value"


def _cells(row: tuple[Any, ...]) -> dict[int, Any]:
    """A row's values by column index, blanks (None, empty or spaces-only text) left out."""
    return {
        index: value
        for index, value in enumerate(row)
        if value is not None and not (isinstance(value, str) and not value.strip())
    }


def _labels(cells: dict[int, Any]) -> bool:
    """Two or more distinct labels: text, or whole numbers (a year), at least one text."""
    values = list(cells.values())
    texts = [str(v).strip().lower() for v in values]
    return (
        len(values) >= 2
        and all(
            isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in values
        )
        and any(isinstance(v, str) for v in values)
        and len(set(texts)) == len(texts)
    )


def _covers(cells: dict[int, Any], below: list[dict[int, Any]]) -> bool:
    """Whether a row names every column that most of the (non-blank) rows under it use."""
    under = [row for row in below if row][:BELOW]
    used: dict[int, int] = {}
    for row in under:
        for index in row:
            used[index] = used.get(index, 0) + 1
    return all(index in cells for index, count in used.items() if 2 * count > len(under))


def _why(number: int, above: list[dict[int, Any]]) -> str:
    what = "hold a title or notes" if above else "are blank"
    return f"row {number + 1}: the table's column names (the rows above it {what})"
