"""Records of many pages as Arrow batches that all share one schema.

Pages arrive one by one and a column may first appear on page 40, or change type
there, while the loader takes its table schema from the first batch. So records are
spooled: each page's records are flattened and written as JSON lines to a temporary
file while the column set and types are unified; then the file is read back in
batches with the final schema. Memory holds one page and one batch, never the
source; the disk holds the flattened records once.

Types: null, bool, int64, float64, string and json. Null takes any type; int and float
make float; any other mix makes string (values as their JSON text). A column that
is null throughout is a string column. Columns keep the order they first appear in.
A column of objects or arrays only is Arrow's `json`, as the json file source gives it:
transforms leave it as is (the strings rule's unicode normalisation would rewrite keys
and values inside the documents), and loaders store it as json.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from itertools import islice
from types import TracebackType
from typing import Any, Literal

import pyarrow as pa

from connectors.errors import SourceError

Record = dict[str, Any]


class JsonText(str):
    """A nested value (object or array) as JSON text."""


_INT64 = (-(2**63), 2**63 - 1)


def flatten(record: Record, mode: Literal["underscore", "json"]) -> Record:
    """One flat row: nested objects joined with `_` (or JSON text), arrays as JSON text."""
    row: Record = {}
    _flatten_into(row, "", record, mode)
    return row


def _flatten_into(row: Record, prefix: str, record: Record, mode: str) -> None:
    for key, value in record.items():
        name = f"{prefix}_{key}" if prefix else key
        if isinstance(value, dict) and mode == "underscore":
            _flatten_into(row, name, value, mode)
            continue
        if name in row:
            raise SourceError(
                f"two fields of a record both make the column {name!r} when flattened",
                hint="set flatten: json to keep nested objects as JSON text columns",
            )
        row[name] = (
            JsonText(json.dumps(value, ensure_ascii=False))
            if isinstance(value, dict | list)
            else value
        )


def _type_of(value: Any) -> pa.DataType:
    if value is None:
        return pa.null()
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64() if _INT64[0] <= value <= _INT64[1] else pa.string()
    if isinstance(value, float):
        return pa.float64()
    return pa.json_() if isinstance(value, JsonText) else pa.string()


def unify(old: pa.DataType, new: pa.DataType) -> pa.DataType:
    """The type that holds values of both types (see the module docstring)."""
    if old == new or pa.types.is_null(new):
        return old
    if pa.types.is_null(old):
        return new
    if {old, new} == {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.string()


def _as_text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else json.dumps(value)


class RecordSpool:
    """Collects flattened records on disk and gives them back as uniform batches."""

    def __init__(self, mode: Literal["underscore", "json"]) -> None:
        self._mode = mode
        self._types: dict[str, pa.DataType] = {}
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._rows = 0

    def __enter__(self) -> RecordSpool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()

    def add(self, records: list[Record]) -> None:
        """Spool one page's records, widening the schema as needed."""
        for record in records:
            row = flatten(record, self._mode)
            for name, value in row.items():
                self._types[name] = unify(self._types.get(name, pa.null()), _type_of(value))
            self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._rows += len(records)

    def schema(self) -> pa.Schema:
        """The unified schema; all-null columns are strings."""
        return pa.schema(
            [(name, pa.string() if pa.types.is_null(t) else t) for name, t in self._types.items()]
        )

    def batches(self, size: int) -> Iterator[pa.RecordBatch]:
        """Every spooled record, `size` at a time; one empty batch when there is none."""
        schema = self.schema()
        if not self._rows:
            yield pa.RecordBatch.from_pylist([], schema=schema)
            return
        text = {f.name for f in schema if pa.types.is_string(f.type)}
        self._file.seek(0)
        while lines := list(islice(self._file, size)):
            rows = [json.loads(line) for line in lines]
            for row in rows:
                for name in text.intersection(row):
                    row[name] = _as_text(row[name])
            yield pa.RecordBatch.from_pylist(rows, schema=schema)
