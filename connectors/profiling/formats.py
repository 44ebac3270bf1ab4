"""What a file's bytes say about how to read it: encoding, CSV dialect, sheets, record paths.

`detect` turns a bare path into a source spec a pipeline can use as written: the kind is
the one whose `suffixes` name the file, and the kind's `detect_path` (one of the `*_spec`
functions here for dagsmith's own kinds) reads the head. Its findings are reported in the
profile's `format` section.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

from connectors import kinds
from connectors.errors import SourceError
from connectors.runtime import ReadContext
from connectors.sources import files
from connectors.spec.sources import CsvSource, ExcelSource, JsonSource, SourceSpec, XmlSource

HEAD_BYTES = 256 << 10
SNIFF_LINES = 100
"""Lines of a delimited file's head its delimiter and header are guessed from."""
_LATIN = frozenset(
    {"mac-roman", "mac-latin2", "mac-iceland", "mac-turkish", "cp1250", "cp1252", "cp850"}
    | {"iso8859-1", "iso8859-2", "iso8859-15", "hp-roman8", "cp437"}
)
PARSE_JSON_BELOW = 64 << 20
"""JSON documents up to this size (bytes) are parsed whole to find the record path."""
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect(path: str, ctx: ReadContext) -> tuple[SourceSpec, dict[str, Any]]:
    """A source spec for a file, chosen by its suffix and its content, and the findings."""
    location = files.expand(path, ctx)[0]
    kind = _kind(location)
    with files.open_binary(location, "infer") as raw:
        head = raw.read(HEAD_BYTES)
    spec, findings = kinds.kind_named(kind).detect(path, kind, location, head)
    return spec, findings


def _kind(location: files.Location) -> str:
    """The source kind a file's suffix names (a compression suffix aside)."""
    suffixes = PurePosixPath(location.path.lower()).suffixes
    kept = [s for s in suffixes if s not in (".gz", ".bz2", ".zst", ".xz")]
    known = kinds.suffixes()
    kind = known.get(kept[-1] if kept else "")
    if kind is None:
        raise SourceError(
            f"{location.shown}: cannot tell the file's format from its name",
            hint="use a known suffix (" + ", ".join(sorted(known)) + ") or write a pipeline spec",
        )
    return kind


def json_spec(
    path: str, kind: str, location: files.Location, head: bytes
) -> tuple[SourceSpec, dict[str, Any]]:
    """A JSON document: where its records are."""
    records_path = _json_records_path(location, head)
    return JsonSource(kind="json", path=path, records_path=records_path), {
        "records_path": records_path
    }


def xml_spec(
    path: str, kind: str, location: files.Location, head: bytes
) -> tuple[SourceSpec, dict[str, Any]]:
    """An XML document: the element path of one record."""
    record_path = xml_record_path(head)
    return XmlSource(kind="xml", path=path, record_path=record_path), {"record_path": record_path}


def excel_spec(
    path: str, kind: str, location: files.Location, head: bytes
) -> tuple[SourceSpec, dict[str, Any]]:
    """A workbook: its first sheet, and the names of all."""
    return ExcelSource(kind="excel", path=path), {"sheets": excel_sheets(location)}


def encoding_of(head: bytes) -> str:
    """The text encoding: a BOM if there is one, UTF-8 if it decodes, else a detector's guess."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the head
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    guess = codecs.lookup(best.encoding).name if best is not None else None
    if guess is not None and guess not in _LATIN:
        return guess
    # The detector cannot tell the Latin code pages apart on short text (it says mac-latin2
    # for French cp1252); Windows' Western page is by far the likeliest when it decodes.
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        return guess or "latin-1"
    return "cp1252"


def csv_spec(
    path: str, kind: str, location: files.Location, head: bytes
) -> tuple[SourceSpec, dict[str, Any]]:
    """A CSV or TSV file: its encoding, delimiter and whether it has a header."""
    encoding = encoding_of(head)
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    text = text[: text.rfind("\n") + 1] or text
    delimiter, header = _dialect(text, "\t" if kind == "tsv" else ",")
    spec = CsvSource.model_validate(
        {"kind": kind, "path": path, "encoding": encoding, "delimiter": delimiter, "header": header}
        | {"ragged": "reject"}  # counted in the profile; dropped from a draft that has none
    )
    findings = {"encoding": encoding, "bom": head.startswith(codecs.BOM_UTF8)}
    return spec, findings | {"delimiter": delimiter, "header": header}


def _dialect(text: str, default: str) -> tuple[str, bool]:
    # csv.Sniffer's quote regexes scan the whole text, and a head of long quoted lines took
    # seconds; its own guesses look at a few dozen rows at most.
    text = "".join(text.splitlines(keepends=True)[:SNIFF_LINES])
    sniffer = csv.Sniffer()
    try:
        delimiter = sniffer.sniff(text, delimiters=",;\t|").delimiter
    except csv.Error:
        first = text.split("\n", 1)[0]
        delimiter = max(",;\t|", key=first.count) if any(c in first for c in ",;\t|") else default
    try:
        header = sniffer.has_header(text)
    except csv.Error:
        header = True
    return delimiter, header


def _json_records_path(location: files.Location, head: bytes) -> str | None:
    if head.lstrip().startswith(b"["):
        return None
    if location.fs.size(location.path) > PARSE_JSON_BELOW:
        raise SourceError(
            f"{location.shown}: a large JSON document whose records are not at the top level",
            hint="write a spec with `records_path` (the dotted path to the array of records)",
        )
    with files.open_binary(location, "infer") as raw:
        return find_records(json.load(raw))


def find_records(node: Any, prefix: str = "") -> str | None:
    """The dotted path of the first array of objects, breadth first."""
    if not isinstance(node, dict):
        return None
    for key, value in node.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return f"{prefix}{key}"
    for key, value in node.items():
        found = find_records(value, f"{prefix}{key}.")
        if found:
            return found
    return None


def xml_record_path(head: bytes) -> str:
    """The shallowest element path that repeats: the likely record."""
    from lxml import etree

    parser = etree.XMLPullParser(events=("start", "end"), resolve_entities=False, no_network=True)
    parser.feed(head)
    stack: list[str] = []
    counts: Counter[str] = Counter()
    try:
        for event, element in parser.read_events():
            if event == "start":
                stack.append(etree.QName(element).localname)
                if len(stack) >= 2:
                    counts["/".join(stack)] += 1
            else:
                stack.pop()
    except etree.XMLSyntaxError:
        pass  # the head may end mid-element; what was read is enough
    repeated = [path for path, count in counts.items() if count > 1] or list(counts)
    if not repeated:
        raise SourceError("cannot find repeated elements in the XML document")
    return min(repeated, key=lambda path: (path.count("/"), -counts[path]))


def excel_sheets(location: files.Location) -> list[str]:
    """The workbook's sheet names, in order."""
    from openpyxl import load_workbook

    with files.open_seekable(location, "infer") as handle:
        workbook = load_workbook(handle, read_only=True)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()
