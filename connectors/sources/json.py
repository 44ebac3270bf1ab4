"""JSON documents and JSON Lines, as batches that share one schema for the whole source.

Reading is two passes. The first infers each block's schema with pyarrow and
unifies them (null takes any type, integers widen to floats, struct fields
merge); a column whose types cannot be unified (a number here, text there)
becomes a string holding each value's JSON text. The second pass reads every
block with that explicit schema. Nested objects and arrays stay Arrow structs
and lists. A document's records are streamed by `json_scan.RecordScanner`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from connectors.errors import SourceError
from connectors.runtime import ReadContext
from connectors.sources import files
from connectors.sources.json_scan import RecordScanner
from connectors.spec.sources import JsonlSource, JsonSource, SourceSpec

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
    """The unified schema of every block seen, and the columns of conflicting types."""

    def __init__(self) -> None:
        self._types: dict[str, pa.DataType] = {}
        self._conflicts: set[str] = set()

    def add_block(self, block: list[Entry], location: files.Location) -> None:
        """Widen the schema to hold this block (first pass)."""
        mixed: set[str] = set()
        try:
            schema = _arrow_json(text for _, text in block).schema
        except pa.ArrowInvalid:
            schema, mixed = _python_schema(_parse(block, location))
        for field in schema:
            self._add(field.name, field.type, field.name in mixed)

    def read(self, block: list[Entry], location: files.Location) -> pa.Table:
        """The block's rows in the unified schema (second pass)."""
        lines = [text for _, text in block]
        if self._conflicts:
            lines = [json.dumps(self._textify(record)) for record in _parse(block, location)]
        try:
            return _arrow_json(lines, self.arrow()).combine_chunks()
        except pa.ArrowInvalid as exc:
            raise SourceError(
                f"{location.shown}: cannot read the records from line {block[0][0]}: {exc}"
            ) from exc

    def arrow(self) -> pa.Schema:
        """The schema; a column that was null everywhere is read as a string."""
        return pa.schema(
            [(name, pa.string() if pa.types.is_null(t) else t) for name, t in self._types.items()]
        )

    def _add(self, name: str, dtype: pa.DataType, mixed: bool) -> None:
        if name in self._conflicts:
            return
        if mixed:
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
        for name in self._conflicts:
            value = record.get(name)
            if value is not None and not isinstance(value, str):
                record[name] = json.dumps(value, ensure_ascii=False)
        return record


def _python_schema(records: list[dict[str, object]]) -> tuple[pa.Schema, set[str]]:
    """Column types of records pyarrow would not read together, and the mixed columns."""
    names = list(dict.fromkeys(name for record in records for name in record))
    fields: list[tuple[str, pa.DataType]] = []
    mixed: set[str] = set()
    for name in names:
        values: list[Any] = [record.get(name) for record in records]
        try:
            fields.append((name, pa.array(values).type))
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            fields.append((name, pa.string()))
            mixed.add(name)
    return pa.schema(fields), mixed
