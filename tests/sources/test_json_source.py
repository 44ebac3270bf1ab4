"""The json and jsonl readers: nesting, records_path, stable schemas, error locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from connectors.errors import SourceError


def test_nested_values_under_a_path_are_json_text_as_written(
    tmp_path: Path, make_ctx: Any, rows: Any, batches: Any
) -> None:
    document = {
        "meta": {"skipped": [1, 2, {"x": "y"}]},
        "data": {"items": [{"id": 1, "who": {"name": "Ann", "tags": ["a", "b"]}}]},
    }
    (tmp_path / "d.json").write_text(json.dumps(document, indent=2))
    spec = {"kind": "json", "path": "d.json", "records_path": "data.items"}
    out = batches(spec, make_ctx())
    assert isinstance(out[0].schema.field("who").type, pa.JsonType)
    [row] = rows(spec, make_ctx())
    assert json.loads(row["who"]) == {"name": "Ann", "tags": ["a", "b"]}


def test_schema_is_stable_across_batches(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    records = [{"id": i, "note": None, "score": 1} for i in range(10)]
    records += [{"id": 10, "note": "late text", "score": 2.5, "extra": {"k": True}}]
    (tmp_path / "s.json").write_text(json.dumps(records))
    out = batches({"kind": "json", "path": "s.json"}, make_ctx(batch_rows=4))
    assert len(out) == 3
    assert {b.schema for b in out} == {out[0].schema}
    assert out[0].schema.field("note").type == pa.string()
    assert out[0].schema.field("score").type == pa.float64()
    assert out[-1].to_pylist()[-1]["extra"] == '{"k":true}'
    assert out[0].to_pylist()[0]["extra"] is None


def test_records_keep_their_own_keys_in_order(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    (tmp_path / "k.jsonl").write_text('{"v": {"z": 1, "a": 2}}\n{"v": {"b": null}}\n{"v": [3]}\n')
    out = rows({"kind": "jsonl", "path": "k.jsonl"}, make_ctx(batch_rows=1))
    assert [r["v"] for r in out] == ['{"z":1,"a":2}', '{"b":null}', "[3]"]


def test_integers_beyond_a_float_are_never_rounded(
    tmp_path: Path, make_ctx: Any, rows: Any
) -> None:
    (tmp_path / "i.jsonl").write_text('{"n": 1}\n{"n": 9007199254740993}\n{"n": 1.5}\n')
    out = rows({"kind": "jsonl", "path": "i.jsonl"}, make_ctx(batch_rows=1))
    assert [r["n"] for r in out] == ["1", "9007199254740993", "1.5"]
    (tmp_path / "f.jsonl").write_text('{"n": 1}\n{"n": 2.5}\n{"n": 9007199254740992}\n')
    assert [r["n"] for r in rows({"kind": "jsonl", "path": "f.jsonl"}, make_ctx())] == [
        1.0,
        2.5,
        9007199254740992.0,
    ]


def test_conflicting_types_become_json_or_text(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    (tmp_path / "c.jsonl").write_text('{"v": 1}\n{"v": "one"}\n{"v": [1]}\n{"v": null}\n')
    out = rows({"kind": "jsonl", "path": "c.jsonl"}, make_ctx(batch_rows=2))
    assert [r["v"] for r in out] == ["1", '"one"', "[1]", None]
    (tmp_path / "s.jsonl").write_text('{"v": 1}\n{"v": "one"}\n{"v": true}\n')
    out = rows({"kind": "jsonl", "path": "s.jsonl"}, make_ctx(batch_rows=2))
    assert [r["v"] for r in out] == ["1", "one", "true"]


def test_invalid_json_reports_line_and_column(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    (tmp_path / "bad.json").write_text('[\n  {"a": 1},\n  {"a": 2,}\n]\n')
    with pytest.raises(SourceError, match=r"bad\.json: invalid JSON at line 3, column 11"):
        batches({"kind": "json", "path": "bad.json"}, make_ctx())


def test_a_missing_records_path_is_named(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    (tmp_path / "p.json").write_text('{"data": {"rows": []}}')
    with pytest.raises(SourceError, match=r"key 'items' of records_path 'data\.items' not found"):
        batches({"kind": "json", "path": "p.json", "records_path": "data.items"}, make_ctx())


def test_jsonl_bad_line_reports_its_number(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    (tmp_path / "l.jsonl").write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3\n{"a": 4}\n')
    with pytest.raises(SourceError, match=r"l\.jsonl: invalid JSON at line 4"):
        batches({"kind": "jsonl", "path": "l.jsonl"}, make_ctx())


def test_jsonl_line_that_is_not_an_object(tmp_path: Path, make_ctx: Any, batches: Any) -> None:
    (tmp_path / "n.jsonl").write_text('{"a": 1}\n[1, 2]\n')
    with pytest.raises(SourceError, match="line 2 is not a JSON object"):
        batches({"kind": "jsonl", "path": "n.jsonl"}, make_ctx())


def test_large_jsonl_and_json_stream_in_bounded_batches(
    tmp_path: Path, make_ctx: Any, batches: Any
) -> None:
    records = [{"id": i, "name": f"n{i}"} for i in range(12_345)]
    (tmp_path / "big.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (tmp_path / "big.json").write_text(json.dumps(records))
    for path in ("big.jsonl", "big.json"):
        out = batches({"kind": path.split(".")[1], "path": path}, make_ctx(batch_rows=1_000))
        assert max(b.num_rows for b in out) <= 1_000
        assert pa.Table.from_batches(out).column("id").to_pylist() == list(range(12_345))


def test_a_record_split_across_read_chunks(tmp_path: Path, make_ctx: Any, rows: Any) -> None:
    long_text = "é" * (3 << 20)  # longer than the scanner's 1 MiB chunk
    (tmp_path / "long.json").write_text(json.dumps([{"t": long_text}, {"t": "short"}]))
    out = rows({"kind": "json", "path": "long.json"}, make_ctx())
    assert [len(r["t"]) for r in out] == [3 << 20, 5]


def test_empty_array_and_empty_jsonl_yield_one_empty_batch(
    tmp_path: Path, make_ctx: Any, batches: Any
) -> None:
    (tmp_path / "e.json").write_text("[]")
    (tmp_path / "e.jsonl").write_text("")
    for kind in ("json", "jsonl"):
        out = batches({"kind": kind, "path": f"e.{kind}"}, make_ctx())
        assert [b.num_rows for b in out] == [0]
