"""Rows of a delimited file with the wrong number of fields ("ragged" rows).

pyarrow hands each such row to `RaggedRows.handle` while it parses a block, with
the row's text and its row number in the file (header and skipped lines
included). Depending on the spec the row fails the read, goes to the rejects
table, or is padded with nulls (extra fields dropped) and put back in its place.
Messages and rejects number data rows from 1, as every other rule does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.errors import SourceError
from connectors.runtime import Rejects
from connectors.spec.sources import CsvSource


@dataclass(frozen=True)
class _Bad:
    number: int
    expected: int
    actual: int
    text: str


class RaggedRows:
    """Applies the spec's `ragged` policy to the rows pyarrow could not split."""

    def __init__(
        self,
        spec: CsvSource,
        shown: str,
        names: list[str],
        rejects: Rejects,
        dialect: dict[str, Any],
    ) -> None:
        self._mode = spec.ragged
        self._shown = shown
        self._names = names
        self._rejects = rejects
        self._dialect = dialect
        self._nulls = set(spec.null_values)
        self._pending: dict[int, _Bad] = {}
        self._before = spec.skip_rows + int(spec.header)
        self._next = self._before + 1
        self._failed: _Bad | None = None

    def handle(self, row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        """pyarrow's `invalid_row_handler`: 'skip' the row (kept aside) or 'error'."""
        bad = _Bad(row.number or 0, row.expected_columns, row.actual_columns, row.text)
        if self._mode == "error":
            self._failed = bad
            return "error"
        self._pending[bad.number] = bad
        return "skip"

    def error(self) -> SourceError | None:
        """The error for the ragged row that stopped the read, if one did."""
        if self._failed is None:
            return None
        bad = self._failed
        protector = self._rejects.protector
        # A ragged row's fields cannot be told apart: a stream that protects any shows none.
        quoted = (
            " (not shown: the stream protects personal data)"
            if protector is not None and protector.hides
            else f": {bad.text[:80]!r}"
        )
        return SourceError(
            f"{self._shown}: data row {bad.number - self._before} has {bad.actual} fields, "
            f"expected {bad.expected}{quoted}",
            hint="fix the row, or set `ragged: reject` (rejects table) or `ragged: pad`",
        )

    def merge(self, batch: pa.RecordBatch) -> pa.Table:
        """The batch with this block's ragged rows rejected, or padded in place."""
        table = pa.Table.from_batches([batch])
        order, bads = self._walk(batch.num_rows)
        if not bads:
            return table
        if self._mode == "reject":
            self._reject(bads)
            return table
        padded = pa.Table.from_pylist([self._pad(bad) for bad in bads], schema=table.schema)
        return pa.concat_tables([table, padded]).take(order).combine_chunks()

    def flush(self) -> Iterator[pa.Table]:
        """Ragged rows after the last good row (pyarrow's last block may hold only those)."""
        if self._pending:
            self._next = min(self._pending)
            yield self.merge(pa.RecordBatch.from_pylist([], schema=self._schema()))

    def _schema(self) -> pa.Schema:
        return pa.schema([(name, pa.string()) for name in self._names])

    def _walk(self, valid: int) -> tuple[list[int], list[_Bad]]:
        """Put this block's rows back in file order: `order` indexes good rows, then bad."""
        if not self._pending:  # the usual block: no row to put back, nothing to walk
            self._next += valid
            return [], []
        order: list[int] = []
        bads: list[_Bad] = []
        seen = 0
        while seen < valid or self._next in self._pending:
            if self._next in self._pending:
                bads.append(self._pending.pop(self._next))
                order.append(valid + len(bads) - 1)
            else:
                order.append(seen)
                seen += 1
            self._next += 1
        return order, bads

    def _fields(self, bad: _Bad) -> list[str]:
        """The row's fields; a row whose quotes do not balance is split as leniently as
        the csv module can (it is kept or rejected as the spec says, never a crash)."""
        try:
            return next(csv.reader(io.StringIO(bad.text), **self._dialect), [])
        except csv.Error:
            lenient = {**self._dialect, "strict": False}
            return next(csv.reader(io.StringIO(bad.text.replace("\0", "")), **lenient), [])

    def _pad(self, bad: _Bad) -> dict[str, str | None]:
        fields: list[str | None] = [None if f in self._nulls else f for f in self._fields(bad)]
        fields += [None] * (len(self._names) - len(fields))
        return dict(zip(self._names, fields, strict=False))

    def _reject(self, bads: list[_Bad]) -> None:
        rows: list[dict[str, Any]] = []
        for bad in bads:
            fields = self._fields(bad)
            row: dict[str, Any] = dict(zip(self._names, fields, strict=False))
            if len(fields) > len(self._names):
                row["_extra"] = fields[len(self._names) :]
            rows.append(row)
        self._rejects.add(
            "ragged",
            [f"expected {bad.expected} fields, got {bad.actual}" for bad in bads],
            rows,
            [bad.number - self._before for bad in bads],
            at_source=True,
        )
