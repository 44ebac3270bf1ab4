"""One stable schema across pages: late columns, type conflicts, flattening, batch sizes."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from connectors.errors import SourceError
from connectors.sources import read
from connectors.sources.http.records import RecordSpool, flatten
from tests.sources_rest.conftest import Answer, ApiServer, Seen, context, read_table, spec

PAGES = {
    "1": [{"id": 1, "score": 1, "flag": None}, {"id": 2, "score": 2}],
    "2": [{"id": 3, "score": 2.5, "code": 7, "meta": {"src": "web"}}],
    "3": [{"id": 4, "score": 3, "code": "X9", "flag": True, "meta": {"src": "app", "v": 2}}],
    "4": [],
}


def test_late_columns_and_conflicts_share_one_schema(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, PAGES[seen.query["page"]])
    table = read_table(spec(pagination={"type": "page_number"}), tmp_path, batch_rows=2)
    assert table.schema == pa.schema(
        [
            ("id", pa.int64()),
            ("score", pa.float64()),
            ("flag", pa.bool_()),
            ("code", pa.string()),
            ("meta_src", pa.string()),
            ("meta_v", pa.int64()),
        ]
    )
    assert table.column("code").to_pylist() == [None, None, "7", "X9"]
    assert table.column("score").to_pylist() == [1.0, 2.0, 2.5, 3.0]
    assert table.column("meta_v").to_pylist() == [None, None, None, 2]


def test_batches_are_at_most_batch_rows(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, [{"id": i} for i in range(10)])
    source = spec()
    sizes = [b.num_rows for b in read(source, context(tmp_path, batch_rows=4))]
    assert sizes == [4, 4, 2]


def test_no_records_gives_one_empty_batch(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, {"data": []})
    table = read_table(spec(records="$.data[*]"), tmp_path)
    assert table.num_rows == 0


def test_204_no_content_is_an_empty_page(api: ApiServer, tmp_path: Path) -> None:
    def pages(seen: Seen) -> Answer:
        return Answer(200, [{"id": 1}]) if seen.query["page"] == "1" else Answer(204, raw=b"")

    api.routes["/items"] = pages
    assert read_table(spec(pagination={"type": "page_number"}), tmp_path).num_rows == 1


def test_flatten_underscore_is_deterministic() -> None:
    record = {"a": {"b": {"c": 1}, "d": [1, {"e": 2}]}, "f": None, "g": {}}
    assert flatten(record, "underscore") == {"a_b_c": 1, "a_d": '[1, {"e": 2}]', "f": None}
    assert flatten(record, "json") == {
        "a": '{"b": {"c": 1}, "d": [1, {"e": 2}]}',
        "f": None,
        "g": "{}",
    }


def test_flatten_collision_is_an_error() -> None:
    with pytest.raises(SourceError, match=r"(?s)column 'a_b'.*flatten: json"):
        flatten({"a_b": 1, "a": {"b": 2}}, "underscore")


def test_huge_integers_and_all_null_columns_become_text() -> None:
    with RecordSpool("underscore") as spool:
        spool.add([{"big": 2**70, "none": None}, {"big": 5, "none": None}])
        [batch] = spool.batches(10)
    assert batch.schema == pa.schema([("big", pa.string()), ("none", pa.string())])
    assert batch.column(0).to_pylist() == [str(2**70), "5"]
