"""Cursors, next URLs, Link headers, totals, and the loops and runaways that must fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import SourceError
from tests.sources_rest.conftest import SECRET, Answer, ApiServer, Seen, read_table, spec

CURSOR = {"type": "cursor", "cursor_path": "$.meta.next", "param": "after"}


def _cursor_pages(seen: Seen) -> Answer:
    after = int(seen.query.get("after", "0"))
    nxt = after + 2 if after < 4 else None
    return Answer(200, {"data": [{"id": after + 1}, {"id": after + 2}], "meta": {"next": nxt}})


def test_cursor_until_no_next(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = _cursor_pages
    source = spec(records="$.data[*]", params={"status": "paid", "full": True}, pagination=CURSOR)
    assert read_table(source, tmp_path).column("id").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert [h.query for h in api.hits("/items")] == [
        {"status": "paid", "full": "true"},
        {"status": "paid", "full": "true", "after": "2"},
        {"status": "paid", "full": "true", "after": "4"},
    ]


def test_repeated_cursor_is_a_loop(api: ApiServer, tmp_path: Path) -> None:
    counter = iter(range(100))
    api.routes["/items"] = lambda seen: Answer(
        200, {"data": [{"id": next(counter)}], "meta": {"next": "same"}}
    )
    with pytest.raises(SourceError, match="cursor 'same' a second time: pagination loop"):
        read_table(spec(records="$.data[*]", pagination=CURSOR), tmp_path)
    assert len(api.hits("/items")) == 2


def test_next_url_relative_and_absolute(api: ApiServer, tmp_path: Path) -> None:
    links = {"1": "items?p=2", "2": f"{api.url}/items?p=3", "3": None}
    api.routes["/items"] = lambda seen: Answer(
        200,
        {"results": [{"id": seen.query.get("p", "1")}], "next": links[seen.query.get("p", "1")]},
    )
    source = spec(records="$.results", pagination={"type": "next_url", "next_path": "$.next"})
    assert read_table(source, tmp_path).column("id").to_pylist() == ["1", "2", "3"]


def test_link_header_echoing_the_query_key_sends_it_once(api: ApiServer, tmp_path: Path) -> None:
    def pages(seen: Seen) -> Answer:
        page = int(seen.query.get("page", "1"))
        link = {"Link": f'</items?page={page + 1}&key={SECRET}>; rel="next"'} if page < 3 else {}
        return Answer(200, [{"page": page}], link)

    api.routes["/items"] = pages
    source = spec(
        auth={"type": "api_key", "in": "query", "name": "key"}, pagination={"type": "link_header"}
    )
    assert read_table(source, tmp_path).column("page").to_pylist() == [1, 2, 3]
    assert all(h.query.get("key") == SECRET for h in api.hits("/items"))
    assert api.hits("/items")[1].query == {"page": "2", "key": SECRET}


def test_next_url_pointing_back_is_a_loop(api: ApiServer, tmp_path: Path) -> None:
    links = {"1": "items?p=2", "2": "?p=3", "3": "items?p=2"}
    api.routes["/items"] = lambda seen: Answer(
        200, {"data": [{"id": seen.query.get("p", "1")}], "next": links[seen.query.get("p", "1")]}
    )
    source = spec(records="$.data", pagination={"type": "next_url", "next_path": "$.next"})
    with pytest.raises(SourceError, match=r"next page .*items\?p=2 a second time: pagination loop"):
        read_table(source, tmp_path)
    assert len(api.hits("/items")) == 3


def test_page_param_ignored_by_the_server_is_a_loop(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, {"data": [{"id": 1}, {"id": 2}]})
    source = spec(records="$.data", pagination={"type": "page_number"})
    with pytest.raises(SourceError, match=r"items\?page=2 returned the same page"):
        read_table(source, tmp_path)


def test_max_pages_reached_is_an_error(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, [{"page": seen.query["page"]}])
    source = spec(pagination={"type": "page_number", "max_pages": 3})
    with pytest.raises(SourceError, match=r"still has pages after pagination\.max_pages=3"):
        read_table(source, tmp_path)
    assert len(api.hits("/items")) == 3


def test_total_path_stops_without_an_empty_page(api: ApiServer, tmp_path: Path) -> None:
    def pages(seen: Seen) -> Answer:
        offset = int(seen.query["offset"])
        rows = [{"id": i} for i in range(offset, min(offset + 4, 10))]
        return Answer(200, {"data": rows, "total": 10})

    api.routes["/items"] = pages
    source = spec(
        records="$.data",
        pagination={"type": "offset", "limit": 4, "total_path": "$.total"},
    )
    assert read_table(source, tmp_path).column("id").to_pylist() == list(range(10))
    assert [h.query["offset"] for h in api.hits("/items")] == ["0", "4", "8"]


def test_page_number_with_start_and_size(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(
        200, [{"p": seen.query["pg"]}] if seen.query["pg"] != "2" else []
    )
    source = spec(
        pagination={"type": "page_number", "param": "pg", "start": 0, "size_param": "n", "size": 5}
    )
    assert read_table(source, tmp_path).column("p").to_pylist() == ["0", "1"]
    assert api.hits("/items")[0].query == {"pg": "0", "n": "5"}
