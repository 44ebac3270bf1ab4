"""The csv/tsv reader on real files: quoting, encodings, headers, ragged rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connectors.errors import SourceError


def test_quoted_newlines_quotes_commas_and_unicode(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "a.csv").write_text(
        'id,note\n1,"two\nlines"\n2,"say ""hi"", then, go"\n3,Zürich ✓\n', encoding="utf-8"
    )
    out = batches({"kind": "csv", "path": "a.csv"}, make_ctx())
    assert out[0].schema == pa.schema([("id", pa.string()), ("note", pa.string())])
    assert pa.Table.from_batches(out).to_pylist() == [
        {"id": "1", "note": "two\nlines"},
        {"id": "2", "note": 'say "hi", then, go'},
        {"id": "3", "note": "Zürich ✓"},
    ]


def test_every_column_is_a_string_even_when_later_blocks_differ(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    lines = ["n"] + [str(i) for i in range(200_000)] + ["not a number", "007"]
    (tmp_path / "n.csv").write_text("\n".join(lines) + "\n")
    table = pa.Table.from_batches(batches({"kind": "csv", "path": "n.csv"}, make_ctx(50_000)))
    assert table.schema.field("n").type == pa.string()
    assert table.column("n").to_pylist()[-2:] == ["not a number", "007"]


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8", b"\xef\xbb\xbfname,city\nJos\xc3\xa9,K\xc3\xb6ln\n"),
        ("cp1252", "name,city\nJosé,Köln €\n".encode("cp1252")),
        ("latin-1", "name,city\nJosé,Köln\n".encode("latin-1")),
        ("utf-16", "name,city\nJosé,Köln\n".encode("utf-16")),
    ],
)
def test_encodings_and_bom(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any, encoding: str, data: bytes
) -> None:
    (tmp_path / "e.csv").write_bytes(data)
    out = rows({"kind": "csv", "path": "e.csv", "encoding": encoding}, make_ctx())
    assert list(out[0]) == ["name", "city"]
    assert out[0]["name"] == "José"
    assert out[0]["city"].startswith("Köln")


def test_wrong_encoding_names_the_file_and_what_to_do(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "w.csv").write_bytes("a\nKöln\n".encode("cp1252"))
    with pytest.raises(SourceError, match=r"w\.csv") as caught:
        batches({"kind": "csv", "path": "w.csv"}, make_ctx())
    assert "encoding" in str(caught.value)


@pytest.mark.parametrize(
    ("codec", "declared", "named"),
    [("utf-16", None, "utf-16"), ("utf-32", None, "utf-32"), ("utf-16", "ascii", "utf-16")],
)
def test_a_byte_order_mark_names_the_encoding_to_set(
    tmp_path: Path, make_ctx: Any, batches: Any, codec: str, declared: str | None, named: str
) -> None:
    (tmp_path / "u.csv").write_bytes("a,b\n1,Müller\n".encode(codec))
    spec = {"kind": "csv", "path": "u.csv"} | ({"encoding": declared} if declared else {})
    with pytest.raises(SourceError) as caught:
        batches(spec, make_ctx())
    assert caught.value.hint == f"the file starts with a {named.upper()} byte-order mark: " + (
        f"`encoding: {named}`"
    )


@pytest.mark.parametrize(
    ("encoding", "where"), [("utf-8", "line 40003 (byte {})"), ("ascii", "bytes at offset {}")]
)
def test_a_bad_byte_past_the_first_block_names_its_place(
    tmp_path: Path, make_ctx: Any, batches: Any, encoding: str, where: str
) -> None:
    good = "".join(f"{i},row {i}\n" for i in range(40_000)).encode()
    before = b"id,name\n" + good + b"1,ok\n2,K"
    (tmp_path / "b.csv").write_bytes(before + b"\xf6ln\n" + good)
    with pytest.raises(SourceError) as caught:
        batches({"kind": "csv", "path": "b.csv", "encoding": encoding}, make_ctx())
    assert where.format(len(before)) in str(caught.value)
    assert "b.csv" in str(caught.value) and "encoding" in str(caught.value)


def test_tsv_without_header_skip_rows_and_null_values(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "t.tsv").write_text("exported by X\nsecond junk line\n1\tNA\ta,b\n2\t\tc\n")
    spec = {
        "kind": "tsv",
        "path": "t.tsv",
        "header": False,
        "columns": ["id", "score", "tags"],
        "skip_rows": 2,
        "null_values": ["NA"],
    }
    assert rows(spec, make_ctx()) == [
        {"id": "1", "score": None, "tags": "a,b"},
        {"id": "2", "score": "", "tags": "c"},
    ]


def test_no_header_without_names_numbers_the_columns(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "h.csv").write_text("1;x\n2;y\n")
    spec = {"kind": "csv", "path": "h.csv", "header": False, "delimiter": ";"}
    assert rows(spec, make_ctx()) == [
        {"column_1": "1", "column_2": "x"},
        {"column_1": "2", "column_2": "y"},
    ]


def test_no_quoting_and_an_escape_character(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "q.csv").write_text('a,b\n"x",y\n')
    assert rows({"kind": "csv", "path": "q.csv", "quote": None}, make_ctx())[0]["a"] == '"x"'
    (tmp_path / "e.csv").write_text('a,b\n"x",y\\,z\n')
    out = rows({"kind": "csv", "path": "e.csv", "escape": "\\"}, make_ctx())
    assert out == [{"a": "x", "b": "y,z"}]


def test_duplicate_and_empty_header_names_are_made_unique(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "d.csv").write_text("id,id,,name,id\n1,2,3,4,5\n")
    out = batches({"kind": "csv", "path": "d.csv"}, make_ctx())
    assert out[0].schema.names == ["id", "id_2", "column_3", "name", "id_3"]


RAGGED = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"


def test_ragged_error_names_the_row(tmp_path: Path, make_ctx: Any, batches: Any, rows: Any) -> None:
    (tmp_path / "r.csv").write_text(RAGGED)
    with pytest.raises(SourceError, match=r"r\.csv: data row 2 has 2 fields, expected 3"):
        batches({"kind": "csv", "path": "r.csv"}, make_ctx())


def test_ragged_reject_sends_rows_to_rejects(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "r.csv").write_text(RAGGED)
    ctx = make_ctx()
    out = rows({"kind": "csv", "path": "r.csv", "ragged": "reject"}, ctx)
    assert [r["a"] for r in out] == ["1", "10"]
    rejected = ctx.rejects.table().to_pylist()
    assert [r["row_number"] for r in rejected] == [2, 3]
    assert {r["rule"] for r in rejected} == {"ragged"}
    assert rejected[0]["reason"] == "expected 3 fields, got 2"
    assert json.loads(rejected[0]["raw"]) == {"a": "4", "b": "5"}
    assert json.loads(rejected[1]["raw"]) == {"a": "6", "b": "7", "c": "8", "_extra": ["9"]}
    assert ctx.rejects.count == 2


def test_ragged_pad_keeps_row_order(tmp_path: Path, make_ctx: Any, batches: Any, rows: Any) -> None:
    (tmp_path / "r.csv").write_text(RAGGED)
    ctx = make_ctx(batch_rows=2)
    out = rows({"kind": "csv", "path": "r.csv", "ragged": "pad"}, ctx)
    assert out == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "4", "b": "5", "c": None},
        {"a": "6", "b": "7", "c": "8"},
        {"a": "10", "b": "11", "c": "12"},
    ]
    assert ctx.rejects.table().num_rows == 0


def test_unterminated_quote_is_an_error_with_its_line(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "u.csv").write_text('a,b\n1,2\n3,"open\n4,5\n')
    with pytest.raises(SourceError, match=r"u\.csv: a quoted value opened at line 3"):
        batches({"kind": "csv", "path": "u.csv"}, make_ctx())


def test_literal_quote_inside_a_value_is_not_an_error(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "l.csv").write_text("name,height\nAl,5'11\"\n")
    assert rows({"kind": "csv", "path": "l.csv"}, make_ctx()) == [
        {"name": "Al", "height": "5'11\""}
    ]


def test_empty_and_header_only_files_yield_one_empty_batch(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "head.csv").write_text("x,y\n")
    empty = batches({"kind": "csv", "path": "empty.csv"}, make_ctx())
    head = batches({"kind": "csv", "path": "head.csv"}, make_ctx())
    assert [(b.num_rows, b.num_columns) for b in empty] == [(0, 0)]
    assert [(b.num_rows, b.schema.names) for b in head] == [(0, ["x", "y"])]


def test_small_blocks_are_gathered_into_one_batch(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    body = "id,text\n" + "".join(f"{i},{'x' * 40}\n" for i in range(60_000))  # 3 blocks
    (tmp_path / "many.csv").write_text(body)
    out = batches({"kind": "csv", "path": "many.csv"}, make_ctx(batch_rows=100_000))
    assert [b.num_rows for b in out] == [60_000]
    assert out[0].column("id")[-1].as_py() == "59999"


def test_gzip_and_batches_are_bounded(
    tmp_path: Path, make_ctx: Any, batches: Any, rows: Any
) -> None:
    body = "id,text\n" + "".join(f'{i},"row, {i}"\n' for i in range(25_000))
    (tmp_path / "big.csv.gz").write_bytes(gzip.compress(body.encode()))
    out = batches({"kind": "csv", "path": "big.csv.gz"}, make_ctx(batch_rows=1_000))
    assert max(b.num_rows for b in out) <= 1_000
    assert sum(b.num_rows for b in out) == 25_000
    assert out[-1].column("text")[-1].as_py() == "row, 24999"


def test_a_header_cell_with_a_quoted_newline_is_one_cell(
    tmp_path: Path, make_ctx: Any, rows: Any
) -> None:
    (tmp_path / "h.csv").write_text('id,"first\nname"\n1,"Ann\nMarie"\n2,Bo\n')
    assert rows({"kind": "csv", "path": "h.csv"}, make_ctx()) == [
        {"id": "1", "first\nname": "Ann\nMarie"},
        {"id": "2", "first\nname": "Bo"},
    ]
    (tmp_path / "s.csv").write_text('# export\nid,"a\nb"\n1,2\n')
    spec = {"kind": "csv", "path": "s.csv", "skip_rows": 1, "columns": ["x", "y"]}
    assert rows(spec, make_ctx()) == [{"x": "1", "y": "2"}]
