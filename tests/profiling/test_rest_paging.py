"""Pagination styles other than json-server's, each on a loopback server: detected by
`profile`, written by `init`, and every page loaded by the `dagsmith run` init printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.profiling import Count
from connectors.profiling.resolve import Request, profile_request
from tests.conftest import Cli
from tests.profiling.test_init_runs import init_then_run, loaded
from tests.sources_rest.conftest import Answer, ApiServer, Seen, api

__all__ = ["api"]  # a fixture used by name

ROWS = [{"id": i, "sku": f"SKU-{i:04d}", "price": f"{i * 3}.50"} for i in range(1, 138)]
SIZE = 40


def _cursor(seen: Seen) -> Answer:
    """Opaque cursors under `meta`; the last page has none."""
    start = int(seen.query.get("cursor", "c0")[1:])
    more = start + SIZE < len(ROWS)
    meta = {"next_cursor": f"c{start + SIZE}" if more else None}
    return Answer(200, {"items": ROWS[start : start + SIZE], "meta": meta})


def _next_url(seen: Seen) -> Answer:
    """A relative next URL under `links` (page 1 asked with `?page=1`)."""
    start = int(seen.query.get("after", "0"))
    more = start + SIZE < len(ROWS)
    links = {"next": f"/v1/things?after={start + SIZE}" if more else None}
    return Answer(200, {"results": ROWS[start : start + SIZE], "links": links})


def _hal(seen: Seen) -> Answer:
    """HAL: `_links.next.href`, absent on the last page."""
    start = int(seen.query.get("from", "0"))
    links = {"self": {"href": "/v1/things"}}
    if start + SIZE < len(ROWS):
        links["next"] = {"href": f"/v1/things?from={start + SIZE}"}
    return Answer(200, {"_embedded": {"things": ROWS[start : start + SIZE]}, "_links": links})


def _offset_total(seen: Seen) -> Answer:
    """`?offset=&limit=` with the total in the body."""
    offset, limit = int(seen.query.get("offset", 0)), int(seen.query.get("limit", 20))
    return Answer(200, {"data": ROWS[offset : offset + limit], "total": len(ROWS)})


def _page_header_total(seen: Seen) -> Answer:
    """`?page=&per_page=` with an X-Total-Count header and a bare array."""
    page, size = int(seen.query.get("page", 1)), int(seen.query.get("per_page", 20))
    body = ROWS[(page - 1) * size : page * size]
    return Answer(200, body, headers={"X-Total-Count": str(len(ROWS))})


STYLES: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "cursor": (_cursor, "", {"type": "cursor", "cursor_path": "$.meta.next_cursor"}),
    "next_url": (_next_url, "?page=1", {"type": "next_url", "next_path": "$.links.next"}),
    "hal": (_hal, "", {"type": "next_url", "next_path": "$._links.next.href"}),
    "offset": (
        _offset_total,
        "?offset=0&limit=40&status=paid",
        {"type": "offset", "limit": 40, "total_path": "$.total"},  # default param names
    ),
    "page_total_header": (
        _page_header_total,
        "?page=1&per_page=40",
        {"type": "page_number", "size_param": "per_page", "size": 40},  # param: page
    ),
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_profile_detects_the_style(api: ApiServer, style: str) -> None:
    route, query, expected = STYLES[style]
    api.routes["/v1/things"] = route
    found = profile_request(
        Request(f"{api.url}/v1/things{query}", connection="api"),
        project_dir=Path.cwd(),
        rows=50_000,
        full=False,
        with_quality=False,
    )
    assert found.source["pagination"] == expected
    params = found.source.get("params", {})
    assert not {"page", "offset", "limit", "per_page"} & set(params)
    assert found.rows == Count(len(ROWS), estimated=False)  # 4 pages, all read
    assert "pagination_problem" not in found.format


@pytest.mark.parametrize("style", sorted(STYLES))
def test_init_then_run_loads_every_page(
    api: ApiServer, tmp_path: Path, style: str, dagsmith: Cli
) -> None:
    route, query, expected = STYLES[style]
    api.routes["/v1/things"] = route
    url = f"http://127.0.0.1:{api.server_address[1]}/v1/things{query}"
    spec, summary, _ = init_then_run(dagsmith, tmp_path, url, "--name", "things")
    assert spec["streams"][0]["source"]["pagination"] == expected
    assert loaded(summary) == len(ROWS)
    if style == "offset":
        assert spec["streams"][0]["source"]["params"] == {"status": "paid"}


def test_more_pages_than_sampled_are_counted_from_the_total(api: ApiServer) -> None:
    """The profile reads 5 pages; the row count is the API's total, marked as estimated."""
    api.routes["/v1/things"] = _page_header_total
    found = profile_request(
        Request(f"{api.url}/v1/things?page=1&per_page=10", connection="api"),
        project_dir=Path.cwd(),
        rows=50_000,
        full=False,
        with_quality=False,
    )
    assert found.sampled_rows == 50 and found.rows == Count(len(ROWS), estimated=True)


def test_a_cursor_that_does_not_move_is_reported_not_followed(api: ApiServer) -> None:
    api.routes["/v1/things"] = lambda seen: Answer(200, {"data": ROWS[:5], "next_cursor": "same"})
    found = profile_request(
        Request(f"{api.url}/v1/things", connection="api"),
        project_dir=Path.cwd(),
        rows=50_000,
        full=False,
        with_quality=False,
    )
    assert found.format["pagination"] == "none" and "pagination" not in found.source
    assert "pagination loop" in found.format["pagination_problem"]


def test_a_total_above_what_one_request_returns_is_reported(api: ApiServer) -> None:
    """No paging parameter to go by: the spec reads one page, and the profile says so."""
    api.routes["/v1/things"] = _page_header_total  # 20 records by default, total 137
    found = profile_request(
        Request(f"{api.url}/v1/things", connection="api"),
        project_dir=Path.cwd(),
        rows=50_000,
        full=False,
        with_quality=False,
    )
    assert found.format["pagination"] == "none"
    assert found.format["pagination_problem"].startswith("the API announces 137 records")
