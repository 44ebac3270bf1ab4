"""The excel, xml and parquet readers, and the shared file handling (paths, globs, fsspec)."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from connectors.errors import SourceError


def _workbook(path: Path) -> None:
    book = Workbook()
    first = book.active
    first.title = "Summary"
    first.append(["ignored"])
    orders = book.create_sheet("Orders")
    orders.append(["title row, not the header"])
    orders.append(["id", "ordered", "day", "amount", "mixed", None])
    orders.append([1, datetime(2024, 3, 1, 8, 30), date(2024, 3, 1), 10, "a", None])
    orders.append([2, datetime(2024, 3, 2, 9, 0), date(2024, 3, 2), 2.5, 7, None])
    orders.append([3, None, None, None, None, None])
    orders.append([None] * 6)
    orders["H10"] = None  # touches the sheet far out; must not add rows or columns
    book.save(path)


def test_excel_sheet_header_row_types_and_dates(
    tmp_path: Path, make_ctx: Any, batches: Any
) -> None:
    _workbook(tmp_path / "book.xlsx")
    spec = {"kind": "excel", "path": "book.xlsx", "sheet": "Orders", "header_row": 2}
    out = batches(spec, make_ctx(batch_rows=2))
    assert [b.num_rows for b in out] == [2, 1]
    schema = out[0].schema
    assert schema.names == ["id", "ordered", "day", "amount", "mixed"]
    assert schema.field("id").type == pa.int64()
    assert schema.field("ordered").type == pa.timestamp("us")
    assert schema.field("amount").type == pa.float64()
    assert schema.field("mixed").type == pa.string()
    first, second = pa.Table.from_batches(out).to_pylist()[:2]
    assert first["ordered"] == datetime(2024, 3, 1, 8, 30)
    assert (first["mixed"], second["mixed"]) == ("a", "7")


def test_excel_sheet_by_index_and_unknown_sheet(
    tmp_path: Path, make_ctx: Any, rows: Any, batches: Any
) -> None:
    _workbook(tmp_path / "book.xlsx")
    assert rows({"kind": "excel", "path": "book.xlsx", "sheet": 1, "header_row": 2}, make_ctx())
    assert batches({"kind": "excel", "path": "book.xlsx"}, make_ctx())[0].num_rows == 0
    with pytest.raises(SourceError, match="its sheets are: Summary, Orders"):
        batches({"kind": "excel", "path": "book.xlsx", "sheet": "Nope"}, make_ctx())


ORDERS = b"""<?xml version="1.0"?>
<orders>
  <meta>ignored</meta>
  <order id="1" status="paid"><customer id="c7"><name>Ann</name></customer>
    <item>pen</item><item>ink</item><total>3.5</total></order>
  <order id="2"><customer><name>Bo &amp; Co</name></customer><total/></order>
</orders>
"""


def test_xml_attributes_children_and_repeats(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    (tmp_path / "o.xml").write_bytes(ORDERS)
    out = rows({"kind": "xml", "path": "o.xml", "record_path": "orders/order"}, make_ctx(1))
    assert out[0] == {
        "id": "1",
        "status": "paid",
        "customer_id": "c7",
        "customer_name": "Ann",
        "item": json.dumps(["pen", "ink"]),
        "total": "3.5",
    }
    assert out[1]["customer_name"] == "Bo & Co"
    assert out[1]["status"] is None
    assert out[1]["total"] is None


def test_xml_external_entity_is_not_read(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    (tmp_path / "x.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        "<r><row><v>before&xxe;</v></row></r>\n"
    )
    out = rows({"kind": "xml", "path": "x.xml", "record_path": "r/row"}, make_ctx())
    assert "TOP-SECRET-VALUE" not in json.dumps(out)
    assert out == [{"v": "before"}]


def test_malformed_xml_reports_the_line(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    (tmp_path / "m.xml").write_text("<r>\n<row><v>1</v></row>\n<row><v>2</row>\n</r>\n")
    with pytest.raises(SourceError, match=r"m\.xml: malformed XML at line 3"):
        batches({"kind": "xml", "path": "m.xml", "record_path": "r/row"}, make_ctx())


def test_xml_record_path_must_start_at_the_root(
    tmp_path: Path, make_ctx: Any, batches: Any
) -> None:
    (tmp_path / "o.xml").write_bytes(ORDERS)
    with pytest.raises(SourceError, match="root element is <orders>"):
        batches({"kind": "xml", "path": "o.xml", "record_path": "shop/order"}, make_ctx())


def test_parquet_columns_and_bounded_batches(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    table = pa.table({"a": range(2_500), "b": ["x"] * 2_500, "c": [1.5] * 2_500})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2_500)
    out = batches({"kind": "parquet", "path": "t.parquet", "columns": ["c", "a"]}, make_ctx(1_000))
    assert [b.num_rows for b in out] == [1_000, 1_000, 500]
    assert out[0].schema.names == ["c", "a"]
    with pytest.raises(SourceError, match="no column 'z'; its columns are: a, b, c"):
        batches({"kind": "parquet", "path": "t.parquet", "columns": ["z"]}, make_ctx())


def test_empty_parquet_keeps_its_schema(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    pq.write_table(pa.table({"a": pa.array([], pa.int32())}), tmp_path / "e.parquet")
    out = batches({"kind": "parquet", "path": "e.parquet"}, make_ctx())
    assert [(b.num_rows, b.schema) for b in out] == [(0, pa.schema([("a", pa.int32())]))]


def test_parquet_keeps_a_files_required_columns_non_null(
    tmp_path: Path, make_ctx: Any, batches: Any
) -> None:
    required = pa.schema([pa.field("a", pa.int64(), nullable=False), pa.field("b", pa.string())])
    pq.write_table(pa.table({"a": [1], "b": ["x"]}, schema=required), tmp_path / "1.parquet")
    [one] = batches({"kind": "parquet", "path": "1.parquet"}, make_ctx())
    assert [f.nullable for f in one.schema] == [False, True]
    # Another file may allow nulls there: files read together are nullable.
    pq.write_table(
        pa.table({"a": [None], "b": ["y"]}, schema=required.set(0, pa.field("a", pa.int64()))),
        tmp_path / "2.parquet",
    )
    both = batches({"kind": "parquet", "path": "*.parquet"}, make_ctx())
    assert [[f.nullable for f in b.schema] for b in both] == [[True, True], [True, True]]


def test_glob_reads_matches_in_name_order(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    (tmp_path / "in").mkdir()
    for name in ("b", "c", "a"):
        (tmp_path / "in" / f"{name}.csv").write_text(f"f\n{name}\n")
    assert [r["f"] for r in rows({"kind": "csv", "path": "in/*.csv"}, make_ctx())] == [
        "a",
        "b",
        "c",
    ]
    with pytest.raises(SourceError, match=r"no file matches 'in/\*\.tsv'"):
        rows({"kind": "csv", "path": "in/*.tsv"}, make_ctx())


def test_missing_file_names_the_path(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    with pytest.raises(SourceError, match=r"source file not found: .*nope\.csv") as caught:
        rows({"kind": "csv", "path": "nope.csv"}, make_ctx())
    assert "relative paths" in str(caught.value)


def test_memory_url_and_explicit_compression(make_ctx: Any, rows: Any) -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/dagsmith-test/data.bin", gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    spec = {"kind": "jsonl", "path": "memory://dagsmith-test/data.bin", "compression": "gzip"}
    assert rows(spec, make_ctx()) == [{"a": 1}, {"a": 2}]
    fs.pipe("/dagsmith-test/book.parquet", b"not parquet")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        rows({"kind": "parquet", "path": "memory://dagsmith-test/book.parquet"}, make_ctx())


@pytest.mark.parametrize("suffix", ["bz2", "xz", "zst"])
def test_compressions_by_suffix(tmp_path: Path, make_ctx: Any, rows: Any, suffix: str) -> None:
    data = b"a,b\n1,2\n"
    codec = {"bz2": "bz2", "xz": "xz", "zst": "zstd"}[suffix]
    with fsspec.open(str(tmp_path / f"f.csv.{suffix}"), "wb", compression=None) as raw:
        raw.write(pa.compress(data, codec, asbytes=True) if codec == "zstd" else _std(data, codec))
    assert rows({"kind": "csv", "path": f"f.csv.{suffix}"}, make_ctx()) == [{"a": "1", "b": "2"}]


def _std(data: bytes, codec: str) -> bytes:
    import bz2
    import lzma

    return bz2.compress(data) if codec == "bz2" else lzma.compress(data)
