"""REST sources: a few pages sampled with the source's own client, and what they reveal.

Requests go only to the connection's host, through the same client (timeouts, retries,
breaker, masking) as a pipeline run. Besides the records, a profile reports which
pagination style the first reply suggests and whether the API refuses a request made
without credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pyarrow as pa
import requests

from connectors.connections import get_connection
from connectors.errors import SourceError
from connectors.masking import masked_logs
from connectors.profiling.formats import find_records
from connectors.profiling.model import Count
from connectors.runtime import ReadContext
from connectors.sources import rest
from connectors.sources.http.auth import authenticator, masker_for
from connectors.sources.http.client import Call, HttpClient, Reply
from connectors.sources.http.pagination import PageRequest, pages
from connectors.sources.http.records import RecordSpool
from connectors.spec.rest import RestSource

MAX_PAGES = 5
_CURSOR_KEYS = ("next_cursor", "nextCursor", "cursor", "next_page_token", "nextPageToken")
_NEXT_KEYS = ("next", "next_url", "nextUrl", "next_page_url")
_PAGE_KEYS = ("page", "total_pages", "totalPages", "page_count", "current_page")


def take(spec: RestSource, ctx: ReadContext, rows: int) -> tuple[pa.Table, Count, dict[str, Any]]:
    """Records of the first pages, the row count if every page was read, and the findings."""
    conn = get_connection(spec.connection, ctx.project_dir)
    base, masker = rest.base_url(conn), masker_for(conn)
    with requests.Session() as session, masked_logs(masker), RecordSpool(spec.flatten) as spool:
        session.headers["User-Agent"] = "dagsmith"
        client = HttpClient(spec, masker, session)
        auth = authenticator(spec.auth, conn, client, base, masker)
        first = PageRequest(f"{base}/{spec.endpoint.lstrip('/')}", dict(spec.params))
        fetch = partial(rest._fetch, spec, client, auth)
        spec = _records_found(spec, fetch(first))
        findings, exhausted = _first_pages(spec, first, fetch, client, spool, rows)
        findings["auth_required"] = auth_required(spec, client, first)
        table = pa.Table.from_batches(list(spool.batches(max(rows, 1))))
    # Pages the spec does not follow are not read by a run either, but the count says "more".
    exhausted = exhausted and findings.get("pagination") in ("none", spec.pagination.type)
    count = Count(table.num_rows, estimated=False) if exhausted else Count(None, estimated=True)
    findings["records"] = spec.records
    return table.slice(0, rows), count, findings


def _first_pages(
    spec: RestSource,
    first: PageRequest,
    fetch: Callable[[PageRequest], Reply],
    client: HttpClient,
    spool: RecordSpool,
    rows: int,
) -> tuple[dict[str, Any], bool]:
    """Spool up to `MAX_PAGES` pages; the first page's findings, and whether pages ran out."""
    findings: dict[str, Any] = {}
    seen = 0
    for page in pages(spec.pagination, first, fetch, partial(rest._select, spec), client.shown):
        if page.number == 1:
            findings["pagination"] = pagination_style(page.reply, page.body)
            findings["nested"] = nested_paths(page.records)
        spool.add(page.records)
        seen += len(page.records)
        if seen >= rows or page.number >= MAX_PAGES:
            return findings, False
    return findings, True


def _records_found(spec: RestSource, reply: Reply) -> RestSource:
    """The spec with `records` pointing at the array of objects, when the default misses it."""
    if spec.records != "$":
        return spec
    path = find_records(reply.json())
    return spec.model_copy(update={"records": f"$.{path}"}) if path else spec


def pagination_style(reply: Reply, body: Any) -> str:
    """The pagination a reply suggests: link_header, next_url, cursor, page_number or none."""
    if "next" in reply.links:
        return "link_header"
    if not isinstance(body, dict):
        return "none"
    if any(isinstance(body.get(k), str) and "://" in body[k] for k in _NEXT_KEYS):
        return "next_url"
    if any(key in body for key in _CURSOR_KEYS) or _nested_key(body, _CURSOR_KEYS):
        return "cursor"
    if any(key in body for key in _PAGE_KEYS):
        return "page_number"
    if "offset" in body or "limit" in body:
        return "offset"
    return "none"


def _nested_key(body: dict[str, Any], keys: tuple[str, ...]) -> bool:
    return any(isinstance(v, dict) and any(k in v for k in keys) for v in body.values())


def auth_required(spec: RestSource, client: HttpClient, first: PageRequest) -> bool:
    """Whether the API refuses the first request when it carries no credentials."""
    call = Call(spec.method, first.url, params=first.params, headers=dict(spec.headers))
    try:
        client.send(call)
    except SourceError as exc:
        return any(code in exc.message for code in ("401", "403"))
    return False


def nested_paths(records: list[dict[str, Any]]) -> list[str]:
    """Dotted paths of the objects and arrays inside the records."""
    found: list[str] = []
    for record in records[:100]:
        _walk(record, "", found)
    return found


def _walk(node: dict[str, Any], prefix: str, found: list[str]) -> None:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict | list) and path not in found:
            found.append(path)
        if isinstance(value, dict):
            _walk(value, f"{path}.", found)
