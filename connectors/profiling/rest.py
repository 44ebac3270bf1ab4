"""REST sources: a few pages sampled with the source's own client, and what they reveal.

Requests go only to the connection's host, through the same client (timeouts, retries,
breaker, masking) as a pipeline run. The first reply tells the pagination (see `paging`);
the sample then follows it, so the profiled source is the one a run reads, every page.
A profile also says whether the API refuses a request made without credentials.
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
from connectors.profiling import paging
from connectors.profiling.formats import find_records
from connectors.profiling.model import Count
from connectors.profiling.sample import Sample
from connectors.runtime import ReadContext
from connectors.sources import rest
from connectors.sources.http.auth import authenticator, masker_for
from connectors.sources.http.client import Call, HttpClient, Reply
from connectors.sources.http.pagination import PageRequest, pages
from connectors.sources.http.records import RecordSpool
from connectors.spec.rest import RestSource

MAX_PAGES = 5
Fetch = Callable[[PageRequest], Reply]


def sample(spec: RestSource, ctx: ReadContext, rows: int, full: bool) -> Sample:
    """The first pages (a full read is never taken from an API), as `take` finds them."""
    found, table, count, findings = take(spec, ctx, rows)
    return Sample(table, count, "first pages", spec=found, found=findings)


def take(
    spec: RestSource, ctx: ReadContext, rows: int
) -> tuple[RestSource, pa.Table, Count, dict[str, Any]]:
    """The source as found (records path, pagination), its first pages' records, the row
    count (exact when every page was read, else what the API announced) and the findings."""
    conn = get_connection(spec.connection, ctx.project_dir)
    base, masker = rest.base_url(conn), masker_for(conn)
    url = f"{base}/{spec.endpoint.lstrip('/')}"
    with requests.Session() as session, masked_logs(masker):
        session.headers["User-Agent"] = "dagsmith"
        client = HttpClient(spec, masker, session)
        auth = authenticator(spec.auth, conn, client, base, masker)
        fetch = partial(rest._fetch, spec, client, auth)
        first = PageRequest(url, dict(spec.params))
        found, total = _detected(spec, first, fetch(first))
        findings: dict[str, Any] = {"pagination": found.pagination.type}
        sample = partial(_first_pages, url=url, fetch=fetch, client=client, findings=findings)
        try:
            table, exhausted = sample(found, rows=rows)
        except SourceError as exc:
            if found.pagination == spec.pagination:
                raise
            # What the replies suggested does not hold: say so, and read as the user asked.
            findings |= {"pagination": spec.pagination.type, "pagination_problem": exc.message}
            found, total = spec.model_copy(update={"records": found.records}), None
            table, exhausted = sample(found, rows=rows)
        findings["auth_required"] = auth_required(found, client, first)
    findings["records"] = found.records
    if found.pagination.type == "none" and total is not None and total > table.num_rows:
        findings["pagination_problem"] = (
            f"the API announces {total} records and one request returns {table.num_rows}: "
            "set the source's pagination"
        )
    count = Count(table.num_rows, estimated=False) if exhausted else Count(total, estimated=True)
    return found, table.slice(0, rows), count, findings


def _detected(spec: RestSource, first: PageRequest, reply: Reply) -> tuple[RestSource, int | None]:
    """The spec with the records path and the pagination the first reply shows."""
    spec = _records_found(spec, reply)
    if spec.pagination.type != "none":
        return spec, None
    body = reply.json()
    found = paging.detect(first.params, reply, body, len(rest._select(spec, body, 1)))
    document = spec.model_dump(by_alias=True, exclude_defaults=True)
    document |= {"pagination": found.pagination, "params": found.params}
    return RestSource.model_validate(document), found.total


def _first_pages(
    spec: RestSource,
    *,
    url: str,
    fetch: Fetch,
    client: HttpClient,
    findings: dict[str, Any],
    rows: int,
) -> tuple[pa.Table, bool]:
    """Up to `MAX_PAGES` pages' records, and whether the pages ran out."""
    first = PageRequest(url, dict(spec.params))
    exhausted = True
    with RecordSpool(spec.flatten) as spool:
        seen = 0
        for page in pages(spec.pagination, first, fetch, partial(rest._select, spec), client.shown):
            if page.number == 1:
                findings["nested"] = nested_paths(page.records)
            spool.add(page.records)
            seen += len(page.records)
            if seen >= rows or (page.number >= MAX_PAGES and page.records):
                exhausted = False
                break
        table = pa.Table.from_batches(list(spool.batches(max(rows, 1))))
    return table, exhausted


def _records_found(spec: RestSource, reply: Reply) -> RestSource:
    """The spec with `records` pointing at the array of objects, when the default misses it."""
    if spec.records != "$":
        return spec
    path = find_records(reply.json())
    return spec.model_copy(update={"records": f"$.{path}"}) if path else spec


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
