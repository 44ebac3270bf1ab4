"""JSON documents and JSON Lines, as batches that share one schema for the whole source.

Reading is two passes. The first infers each block's schema with pyarrow and
unifies them (null takes any type, integers widen to floats); a column whose types
cannot be unified (a number here, text there) becomes a string holding each value's
JSON text, and so does a column mixing fractions with integers that a float cannot
hold exactly (beyond 2**53). The second pass reads every block with that explicit
schema. A column holding objects or arrays is an Arrow `json` column: each value is
its own JSON text, with its own keys in their order (an Arrow struct would give every
record the keys of all the others). NaN and Infinity, which Python's JSON accepts,
are read as floats. A document's records are streamed by `json_scan.RecordScanner`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from connectors.errors import SourceError
from connectors.runtime import ReadContext
from connectors.sources import files
from connectors.sources.json_scan import RecordScanner
from connectors.spec.sources import JsonlSource, JsonSource, SourceSpec

_EXACT = 2**53
"""Integers up to this magnitude survive a float column unchanged."""

Entry = tuple[int, str]
"""A record: the file line where it starts, and its JSON text on one line."""


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the records of every file the spec names."""
    if not isinstance(spec, JsonSource | JsonlSource):
        raise TypeError(f"the json reader cannot read a {spec.kind!r} source")
    files.check_encoding(spec.encoding)
    locations = files.expand(spec.path, ctx)
    schema = _Schema()
    for location in locations:
        for block in _blocks(spec, location, ctx.batch_rows):
            schema.add_block(block, location)
    rows = 0
    for location in locations:
        for block in _blocks(spec, location, ctx.batch_rows):
            for batch in schema.read(block, location).to_batches(max_chunksize=ctx.batch_rows):
                rows += batch.num_rows
                yield batch
    if not rows:
        yield files.empty_batch(schema.arrow())


def _blocks(
    spec: JsonSource | JsonlSource, location: files.Location, size: int
) -> Iterator[list[Entry]]:
    with files.open_binary(location, spec.compression) as raw:
        text = files.text_stream(raw, spec.encoding, location.shown)
        if isinstance(spec, JsonlSource):
            entries = _lines(text)
        else:
            entries = _records(RecordScanner(text, location.shown), spec.records_path, location)
        while block := list(islice(entries, size)):
            yield block


def _lines(text: Iterable[str]) -> Iterator[Entry]:
    for number, line in enumerate(text, start=1):
        if line.strip():
            yield number, line.rstrip("\r\n")


def _records(scanner: RecordScanner, path: str | None, location: files.Location) -> Iterator[Entry]:
    for record, line in scanner.records(path):
        if not isinstance(record, dict):
            raise _not_object(location, line)
        yield line, json.dumps(record, ensure_ascii=False)


def _not_object(location: files.Location, line: int) -> SourceError:
    return SourceError(
        f"{location.shown}: the record at line {line} is not a JSON object",
        hint="each record must be an object ({...}); point records_path at an array of them",
    )


def _parse(block: list[Entry], location: files.Location) -> list[dict[str, object]]:
    """The block's records, decoded in Python to find exactly where it is broken."""
    records = []
    for line, text in block:
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(
                f"{location.shown}: invalid JSON at line {line}, column {exc.colno}: {exc.msg}",
                hint="fix or remove that line; each line must hold one JSON object",
            ) from exc
        if not isinstance(record, dict):
            raise _not_object(location, line)
        records.append(record)
    return records


def _arrow_json(lines: Iterable[str], schema: pa.Schema | None = None) -> pa.Table:
    data = "\n".join(lines).encode("utf-8")
    return pajson.read_json(
        io.BytesIO(data),
        read_options=pajson.ReadOptions(block_size=max(len(data) + 1, 1 << 16)),
        parse_options=pajson.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore" if schema else "infer"
        ),
    )


class _Schema:
    """The unified schema of every block seen, and the columns read as JSON text."""

    def __init__(self) -> None:
        self._types: dict[str, pa.DataType] = {}
        self._conflicts: set[str] = set()
        self._nested: set[str] = set()
        self._wide: set[str] = set()

    def add_block(self, block: list[Entry], location: files.Location) -> None:
        """Widen the schema to hold this block (first pass)."""
        mixed: set[str] = set()
        try:
            table = _arrow_json(text for _, text in block)
            if _beyond_exact(table, pa.types.is_floating):
                raise pa.ArrowInvalid("a float column holds a value that may be a long integer")
            schema = table.schema
            self._wide |= _beyond_exact(table, pa.types.is_integer)
        except pa.ArrowInvalid:
            schema, mixed, wide = _python_schema(_parse(block, location))
            self._wide |= wide
        for field in schema:
            if pa.types.is_nested(field.type):
                self._nested.add(field.name)
            self._add(field.name, field.type, field.name in mixed)

    def read(self, block: list[Entry], location: files.Location) -> pa.Table:
        """The block's rows in the unified schema (second pass)."""
        schema = self._storage()
        if not self._conflicts:
            try:
                return self._typed(self._fast(block, location, schema))
            except pa.ArrowInvalid:
                pass  # NaN, Infinity: Python's decoder reads them
        records = [self._textify(record) for record in _parse(block, location)]
        try:
            return self._typed(pa.Table.from_pylist(records, schema=schema))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise SourceError(
                f"{location.shown}: cannot read the records from line {block[0][0]}: "
                f"{files.bounded(exc)}"
            ) from exc

    def _fast(self, block: list[Entry], location: files.Location, schema: pa.Schema) -> pa.Table:
        """pyarrow reads the flat columns; only the nested ones are decoded (by orjson, which
        keeps keys in order and is several times faster than the standard library)."""
        flat = pa.schema([f for f in schema if f.name not in self._nested])
        table = _arrow_json((text for _, text in block), flat)
        if not self._nested:
            return table
        try:
            records = [orjson.loads(text) for _, text in block]
        except orjson.JSONDecodeError as exc:  # NaN, or an integer beyond 64 bits
            raise pa.ArrowInvalid(str(exc)) from exc
        columns = {name: table[name] for name in flat.names}
        for name in self._nested:
            values = (record.get(name) for record in records)
            texts = [None if v is None else orjson.dumps(v).decode() for v in values]
            columns[name] = pa.chunked_array([pa.array(texts, pa.string())])
        return pa.table([columns[name] for name in schema.names], schema=schema)

    def arrow(self) -> pa.Schema:
        """The schema: nested columns are `json`, a column null everywhere is a string."""
        return pa.schema(
            [(f.name, pa.json_() if f.name in self._nested else f.type) for f in self._storage()]
        )

    def _storage(self) -> pa.Schema:
        self._conflicts |= {
            name
            for name in self._wide - self._nested
            if pa.types.is_floating(self._types.get(name, pa.null()))
        }
        fields = []
        for name, dtype in self._types.items():
            text = pa.types.is_null(dtype) or name in self._nested or name in self._conflicts
            fields.append((name, pa.string() if text else dtype))
        return pa.schema(fields)

    def _typed(self, table: pa.Table) -> pa.Table:
        table = table.combine_chunks()
        for name in self._nested:
            index = table.schema.get_field_index(name)
            column = table.column(index).combine_chunks()
            table = table.set_column(
                index, name, pa.ExtensionArray.from_storage(pa.json_(), column)
            )
        return table

    def _add(self, name: str, dtype: pa.DataType, mixed: bool) -> None:
        if name in self._nested or name in self._conflicts:
            self._types[name] = pa.string()
        elif mixed:
            self._conflicts.add(name)
            self._types[name] = pa.string()
        elif name not in self._types:
            self._types[name] = dtype
        else:
            pair = [pa.schema([(name, self._types[name])]), pa.schema([(name, dtype)])]
            try:
                unified = pa.unify_schemas(pair, promote_options="permissive")
                self._types[name] = unified.field(0).type
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                self._add(name, dtype, mixed=True)

    def _textify(self, record: dict[str, object]) -> dict[str, object]:
        for name in self._nested:
            value = record.get(name)
            if value is not None:
                record[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        for name in self._conflicts - self._nested:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                record[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return record


def _beyond_exact(table: pa.Table, kind: Callable[[pa.DataType], bool]) -> set[str]:
    """Columns of this kind holding a value beyond 2**53 (a float there may be a rounded
    integer literal: the block is then typed in Python, which reads integers exactly)."""
    return {
        field.name
        for field in table.schema
        if kind(field.type)
        and pc.any(pc.greater(pc.abs(table[field.name]), pa.scalar(_EXACT, field.type))).as_py()
    }


def _python_schema(records: list[dict[str, object]]) -> tuple[pa.Schema, set[str], set[str]]:
    """Column types of records pyarrow would not read together, the mixed columns, and
    the columns holding an integer that a float cannot hold exactly."""
    names = list(dict.fromkeys(name for record in records for name in record))
    fields: list[tuple[str, pa.DataType]] = []
    mixed: set[str] = set()
    wide = set()
    for name in names:
        values: list[Any] = [record.get(name) for record in records]
        if any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > _EXACT for v in values):
            wide.add(name)
        if any(isinstance(v, dict | list) for v in values):
            fields.append((name, pa.list_(pa.null())))
            continue
        try:
            fields.append((name, pa.array(values).type))
        except (pa.ArrowTypeError, pa.ArrowInvalid, OverflowError):
            fields.append((name, pa.string()))
            mixed.add(name)
    return pa.schema(fields), mixed, wide
