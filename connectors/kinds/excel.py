"""Excel workbooks (`kind: excel`): one sheet, read with openpyxl; a profile finds the sheet
and the header row of a table under a title (`connectors.profiling.sheets`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from connectors.kinds import files
from connectors.kinds.base import Hints, SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import ExcelSource

_SHEET = re.compile(r"\b(?:from\s+|on\s+)?(?:the\s+)?sheet\s+(?:\"([^\"]+)\"|(\w+))", re.IGNORECASE)


def _hints(text: str) -> Hints:
    """The sheet a request names ("from the sheet Orders"); the first sheet otherwise."""
    sheet = _SHEET.search(text)
    if sheet is None:
        return Hints()
    return Hints({"sheet": sheet.group(1) or sheet.group(2)}, (sheet.span(),))


EXCEL: SourceKind[ExcelSource] = SourceKind(
    name="excel",
    model_path="connectors.spec.files:ExcelSource",
    reader_path="connectors.sources.excel:read",
    sampler_path="connectors.profiling.sheets:sample",
    label=files.label,
    reaches=files.reaches,
    datasets=files.datasets,
    suffixes={".xlsx": "excel", ".xlsm": "excel"},
    named_by=frozenset({".xlsx"}),
    detect_path="connectors.profiling.formats:excel_spec",
    hints=_hints,
)
