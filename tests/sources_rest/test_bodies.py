"""Bodies that are not data: HTML, truncated JSON, records that are not objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import SourceError
from tests.sources_rest.conftest import Answer, ApiServer, read_table, spec


def test_html_page_with_200_is_an_error(api: ApiServer, tmp_path: Path) -> None:
    page = b"<!doctype html><html><body>Please log in</body></html>"
    api.routes["/items"] = lambda seen: Answer(200, headers={"Content-Type": "text/html"}, raw=page)
    with pytest.raises(SourceError, match=r"not valid JSON \(text/html.*'<!doctype html>"):
        read_table(spec(), tmp_path)
    assert len(api.hits("/items")) == 1


def test_truncated_json_is_an_error(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, raw=b'{"data": [{"id": 1}, {"id"')
    with pytest.raises(SourceError, match="not valid JSON"):
        read_table(spec(records="$.data[*]"), tmp_path)


def test_records_must_be_objects(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(200, {"data": [1, 2]})
    with pytest.raises(SourceError, match=r"record 0 .* is int, not an object"):
        read_table(spec(records="$.data[*]"), tmp_path)


def test_post_sends_the_json_body(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/search"] = lambda seen: Answer(200, {"hits": [{"id": 7}]})
    source = spec(endpoint="search", method="POST", json_body={"q": "x"}, records="$.hits")
    assert read_table(source, tmp_path).column("id").to_pylist() == [7]
    [hit] = api.hits("/search")
    assert hit.method == "POST" and hit.body == b'{"q": "x"}'
