"""XML documents, streamed with lxml's iterparse; each element at `record_path` is a record.

Columns, all strings: the record's attributes (`id`); the text of each element
below it, named by its path under the record joined with '_' (`customer_name`);
and those elements' attributes as `<path>_<attribute>` (`customer_id`). Names are
local names (namespace prefixes dropped). A name that repeats within one record
(several `<item>`) holds a JSON array of the texts; an empty element is null.

The document is read twice: once to collect every column name, so all batches
share one schema, and once to stream the rows. Parsing never loads a DTD, never
resolves an entity and never touches the network, so an external entity (XXE)
is left unread; elements are cleared as soon as they are read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pyarrow as pa
from lxml import etree

from connectors.errors import SourceError
from connectors.runtime import ReadContext
from connectors.sources import files
from connectors.spec.sources import SourceSpec, XmlSource

Record = dict[str, str | None]


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the records of every document the spec names."""
    if not isinstance(spec, XmlSource):
        raise TypeError(f"the xml reader cannot read a {spec.kind!r} source")
    locations = files.expand(spec.path, ctx)
    names: dict[str, None] = {}
    for location in locations:
        for record in _records(spec, location):
            names.update(dict.fromkeys(record))
    schema = pa.schema([(name, pa.string()) for name in names])
    rows = 0
    for location in locations:
        records = _records(spec, location)
        while block := list(islice(records, ctx.batch_rows)):
            rows += len(block)
            yield pa.RecordBatch.from_pylist(block, schema=schema)
    if not rows:
        yield files.empty_batch(schema)


def _records(spec: XmlSource, location: files.Location) -> Iterator[Record]:
    parts = [part.rsplit(":", 1)[-1] for part in spec.record_path.split("/")]
    with files.open_binary(location, spec.compression) as raw:
        events = etree.iterparse(
            raw,
            events=("start", "end"),
            load_dtd=False,
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
        )
        try:
            yield from _walk(events, parts, location)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            raise SourceError(
                f"{location.shown}: malformed XML at line {line}, column {column}: "
                f"{files.bounded(exc.msg)}",
                hint="fix the document there (an unclosed tag or a stray '&' is typical)",
            ) from exc


def _walk(events: Any, parts: list[str], location: files.Location) -> Iterator[Record]:
    path: list[str] = []
    for event, element in events:
        if event == "start":
            path.append(etree.QName(element).localname)
            if len(path) == 1 and path[0] != parts[0]:
                raise SourceError(
                    f"{location.shown}: the root element is <{path[0]}>, but record_path "
                    f"{'/'.join(parts)!r} starts with {parts[0]!r}",
                    hint="record_path starts at the root element, e.g. 'orders/order'",
                )
            continue
        if path == parts:
            yield _flatten(element)
        if len(path) <= len(parts):
            _release(element)
        path.pop()


def _release(element: Any) -> None:
    """Free a finished element and the siblings before it, keeping memory flat."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def _flatten(element: Any) -> Record:
    values: dict[str, list[str | None]] = {}
    _attributes(element, "", values)
    _children(element, "", values)
    return {
        name: found[0] if len(found) == 1 else json.dumps(found, ensure_ascii=False)
        for name, found in values.items()
    }


def _attributes(element: Any, prefix: str, values: dict[str, list[str | None]]) -> None:
    for key, value in element.attrib.items():
        values.setdefault(prefix + etree.QName(key).localname, []).append(value)


def _children(element: Any, prefix: str, values: dict[str, list[str | None]]) -> None:
    # Elements only: comments, processing instructions and unresolved entities are not data.
    for child in element.iterchildren(etree.Element):
        name = prefix + etree.QName(child).localname
        _attributes(child, name + "_", values)
        if next(child.iterchildren(etree.Element), None) is not None:
            _children(child, name + "_", values)
        else:
            values.setdefault(name, []).append((child.text or "").strip() or None)
