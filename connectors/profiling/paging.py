"""The pagination a REST endpoint uses, told from its first reply and the URL asked.

Evidence, strongest first:

- an RFC 8288 `Link: rel="next"` header. When the next URL differs from the request in
  one integer parameter, that parameter is a page number (it grows by one) or an offset
  (it grows by the records received), and the spec pages by it, so the parameter leaves
  `params`: json-server, for one, sends `Link` only while `_page` is in the query.
  Otherwise the spec follows the links;
- the next page's URL in the body (`next`, `links.next`, `_links.next.href`...);
- a cursor in the body (`next_cursor`, `meta.nextCursor`, `next_page_token`...);
- a page or offset parameter in the URL, with a total (an `X-Total-Count` header or a
  `total` field in the body) or a full page; a size parameter alone (json-server's
  `?_limit=100`) implies the page parameter that goes with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.sources.http.client import Reply

PAGE_PARAMS = ("page", "_page", "p", "page_number", "pageNumber")
SIZE_PARAMS = ("per_page", "_limit", "limit", "page_size", "pageSize", "size")
OFFSET_PARAMS = ("offset", "_start", "skip", "start")
LIMIT_PARAMS = ("limit", "_limit", "count", "take", "page_size")
IMPLIED = {"_limit": "_page", "per_page": "page", "page_size": "page", "limit": "offset"}
"""A size parameter alone -> the page or offset parameter that usually goes with it (a
guess that holds only if the next page differs: the sample follows it, and pagination's
loop check refuses a server that ignores it)."""
TOTAL_KEYS = ("total", "total_count", "totalCount", "total_results", "totalResults")
TOTAL_HEADERS = ("X-Total-Count", "X-Total")
NEXT_KEYS = ("next", "next_url", "nextUrl", "next_page_url", "nextPageUrl", "next_link")
CURSOR_KEYS = {
    "next_cursor": "cursor",
    "nextCursor": "cursor",
    "cursor": "cursor",
    "next_page_token": "page_token",
    "nextPageToken": "pageToken",
}
"""A cursor's key in the body -> the query parameter that sends it back (unless the URL
already names one of these)."""


@dataclass(frozen=True)
class Detected:
    """A pagination spec (as in a pipeline file), the request's other params, the total."""

    pagination: dict[str, Any]
    params: dict[str, Any]
    total: int | None = None
    """The record count the API announced, if it did."""


def detect(params: Mapping[str, Any], reply: Reply, body: Any, records: int) -> Detected:
    """The pagination a first reply shows, for the request made with `params`."""
    params = dict(params)
    total_path, total = _total(reply, body)
    if next_url := reply.links.get("next", {}).get("url"):
        return _from_link(params, next_url, records, total_path, total)
    page = _first(params, PAGE_PARAMS)
    rest = {k: v for k, v in params.items() if k != page}
    if isinstance(body, dict) and (path := _find(body, NEXT_KEYS, _is_url)):
        return Detected({"type": "next_url", "next_path": path}, rest, total)
    if isinstance(body, dict) and (path := _find(body, tuple(CURSOR_KEYS), _is_cursor)):
        param = _first(params, tuple(CURSOR_KEYS.values())) or CURSOR_KEYS[path.split(".")[-1]]
        return Detected({"type": "cursor", "cursor_path": path, "param": param}, rest, total)
    return _from_params(params, records, total_path, total)


def _from_link(
    params: dict[str, Any], next_url: str, records: int, total_path: str | None, total: int | None
) -> Detected:
    """A page number or offset when the next link moves one of them; else the links."""
    after = dict(parse_qsl(urlsplit(next_url).query))
    moved = [k for k, v in after.items() if str(params.get(k)) != v]
    if len(moved) == 1 and after[moved[0]].isdigit():
        name, value = moved[0], int(after[moved[0]])
        current = int(params[name]) if str(params.get(name, "")).isdigit() else None
        if name in PAGE_PARAMS or (current is not None and value == current + 1):
            return _by_page(params, name, value - 1, records, total_path, total)
        if name in OFFSET_PARAMS or (current is not None and value == current + records):
            return _by_offset(params, name, records, total_path, total)
    return Detected({"type": "link_header"}, params, total)


def _from_params(
    params: dict[str, Any], records: int, total_path: str | None, total: int | None
) -> Detected:
    """Page or offset parameters in the URL, when a total or a full page says there is more."""
    size = _first(params, SIZE_PARAMS)
    limit = _first(params, LIMIT_PARAMS)
    full = any(str(params.get(k)) == str(records) for k in (size, limit) if k)
    if total is None and not full:
        return Detected({"type": "none"}, params)
    if page := _first(params, PAGE_PARAMS):
        return _by_page(params, page, _int(params[page], 1), records, total_path, total)
    if offset := _first(params, OFFSET_PARAMS):
        return _by_offset(params, offset, records, total_path, total)
    implied = IMPLIED.get(size or limit or "")
    if implied in PAGE_PARAMS:
        return _by_page(params, implied, 1, records, total_path, total)
    if implied in OFFSET_PARAMS:
        return _by_offset(params, implied, records, total_path, total)
    return Detected({"type": "none"}, params, total)


def _by_page(
    params: dict[str, Any],
    name: str,
    number: int,
    records: int,
    total_path: str | None,
    total: int | None,
) -> Detected:
    spec: dict[str, Any] = {"type": "page_number", "param": name, "start": max(number, 0)}
    rest = {k: v for k, v in params.items() if k != name}
    if size := _first(params, SIZE_PARAMS):
        spec |= {"size_param": size, "size": _int(rest.pop(size), records or 1)}
    if total_path:
        spec["total_path"] = total_path
    return Detected(spec, rest, total)


def _by_offset(
    params: dict[str, Any], name: str, records: int, total_path: str | None, total: int | None
) -> Detected:
    rest = {k: v for k, v in params.items() if k != name}
    spec: dict[str, Any] = {"type": "offset", "offset_param": name}
    if limit := _first(rest, LIMIT_PARAMS):
        spec |= {"limit_param": limit, "limit": _int(rest.pop(limit), records or 1)}
    if total_path:
        spec["total_path"] = total_path
    return Detected(spec, rest, total)


def _total(reply: Reply, body: Any) -> tuple[str | None, int | None]:
    """Where the body holds the record count (a JSONPath), and the count (body or header)."""
    path = _find(body, TOTAL_KEYS, _is_count) if isinstance(body, dict) else None
    if path is not None:
        node: Any = body
        for key in path.removeprefix("$.").split("."):
            node = node[key]
        return path, int(node)
    for header in TOTAL_HEADERS:
        if str(reply.headers.get(header, "")).isdigit():
            return None, int(reply.headers[header])
    return None, None


def _find(body: dict[str, Any], keys: tuple[str, ...], accept: Any) -> str | None:
    """The JSONPath of the first of `keys` (top level, then one or two levels down)."""
    for path, value in _walk(body, "$", 3):
        if path.rsplit(".", 1)[-1] not in keys:
            continue
        if accept(value):
            return path
        if isinstance(value, dict) and accept(value.get("href")):  # HAL: `_links.next.href`
            return f"{path}.href"
    return None


def _walk(node: dict[str, Any], prefix: str, depth: int) -> Iterator[tuple[str, Any]]:
    """(JSONPath, value) of a body's members, breadth first, `depth` levels deep."""
    nested: list[tuple[str, dict[str, Any]]] = []
    for key, value in node.items():
        if not key.isidentifier():
            continue
        yield f"{prefix}.{key}", value
        if isinstance(value, dict):
            nested.append((f"{prefix}.{key}", value))
    if depth > 1:
        for path, child in nested:
            yield from _walk(child, path, depth - 1)


def _first(params: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in params), None)


def _int(value: Any, default: int) -> int:
    return int(value) if str(value).isdigit() else default


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and ("://" in value or value.startswith(("/", "?")))


def _is_cursor(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value) != ""


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
