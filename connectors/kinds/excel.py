"""Excel workbooks (`kind: excel`): one sheet, read with openpyxl."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.kinds import files
from connectors.kinds.base import SourceKind

if TYPE_CHECKING:
    from connectors.spec.files import ExcelSource

EXCEL: SourceKind[ExcelSource] = SourceKind(
    name="excel",
    model_path="connectors.spec.files:ExcelSource",
    reader_path="connectors.sources.excel:read",
    label=files.label,
    reaches=files.reaches,
    suffixes={".xlsx": "excel", ".xlsm": "excel"},
    named_by=frozenset({".xlsx"}),
    detect_path="connectors.profiling.formats:excel_spec",
)
