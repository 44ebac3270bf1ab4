"""Rows staged as a file: the text MySQL's LOAD DATA reads (`Dialect.file_stager`).

Tab-separated, backslash escapes, `\\N` for NULL, one line per row, built by Arrow
compute with no Python per row: on 1,000,000 rows it replaces an executemany that spent
most of its time escaping values one by one in the driver.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from connectors.errors import LoadError

if TYPE_CHECKING:
    from connectors.dialects.base import FileStager

_ROW = re.compile(r"\bat row (\d+)")
_PLAIN: tuple[Callable[[pa.DataType], object], ...] = (
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_decimal,
    pa.types.is_boolean,
    pa.types.is_date,
    pa.types.is_time,
    pa.types.is_null,
)


def text(batch: pa.RecordBatch, texts: set[str]) -> pa.Buffer | None:
    """The batch as LOAD DATA text, or None when a column has no text form here (binary,
    durations): those go by executemany. `texts` are the columns bound as text, as the
    executemany path binds them (a date as ISO 8601, a boolean as true/false)."""
    columns = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        written = _column(column, name in texts)
        if written is None:
            return None
        columns.append(written)
    join: Any = pc.binary_join_element_wise
    lines = join(join(*columns, "\t"), "", "\n")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    data: pa.Buffer = lines.buffers()[2]
    return data.slice(start, end - start)


def _column(column: Any, as_text: bool) -> Any:
    kind = column.type
    words = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    words = words or pa.types.is_dictionary(kind)
    if pa.types.is_timestamp(kind):
        # Naive UTC to the microsecond: how DATETIME(6) holds it (dagsmith's timestamps).
        column = column.cast(pa.timestamp("us"), safe=False)
    elif pa.types.is_boolean(kind) and not as_text:
        column = column.cast(pa.int8())
    elif not (words or _plain(kind)):
        return None
    written = column.cast(pa.string())
    if words:
        for special, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n")):
            written = pc.replace_substring(written, special, escaped)
    return pc.fill_null(written, "\\N")


def _plain(kind: pa.DataType) -> bool:
    """Types whose Arrow text the server reads back as the same value."""
    return any(check(kind) for check in _PLAIN)


class TextFile:
    """Sends batches as files: one temporary file, made when first needed, rewritten for
    each batch and removed on exit.

    Args:
        stager: The connection's way to load a file (`Dialect.file_stager`); None: none.
        label: The load's table, as errors name it.
    """

    def __init__(self, stager: FileStager | None, label: str) -> None:
        self.stager, self.label = stager, label
        self._file: IO[bytes] | None = None

    def __enter__(self) -> TextFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def send(
        self, table: sa.TableClause, batch: pa.RecordBatch, texts: set[str], before: int
    ) -> bool:
        """Load a batch (`before` rows were loaded ahead of it); False where it cannot go as
        a file. A value the server had to change (LOAD DATA LOCAL only warns) fails the
        load, naming its column and its row."""
        data = text(batch, texts) if self.stager else None
        if self.stager is None or data is None:
            return False
        if self._file is None:
            self._file = tempfile.NamedTemporaryFile(prefix="dagsmith-", suffix=".tsv")  # noqa: SIM115
        self._file.seek(0)
        self._file.truncate()
        self._file.write(memoryview(data))
        self._file.flush()
        problems = self.stager(table, list(batch.schema.names), self._file.name)
        if problems:
            found = [_ROW.sub(lambda m: f"at row {before + int(m[1])}", p) for p in problems]
            raise LoadError(
                f"loading {self.label} failed: {'; '.join(found[:3])}",
                hint="rows count from 1 among the rows loaded; fix those values or the "
                "table's columns (not retried)",
            )
        return True
