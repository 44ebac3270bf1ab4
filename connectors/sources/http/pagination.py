"""Page after page until the API says there is no more; loops and runaways fail loudly.

Every kind stops at an empty page. Page numbers and offsets also stop once
`total_path` says all records were read; cursors, Link headers and next URLs stop
when there is no next one. A repeated cursor or next URL, a page identical to the
one before, or more than `max_pages` pages is a SourceError: never an endless run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse

from connectors.errors import SourceError
from connectors.sources.http.client import Reply, origin_of
from connectors.sources.http.records import Record
from connectors.spec.rest import (
    CursorPagination,
    LinkHeaderPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    Pagination,
)

Shown = Callable[[str, Mapping[str, Any]], str]
"""Renders a URL and its params for a message, secrets masked."""


@lru_cache(maxsize=64)
def compiled(expression: str) -> JSONPath:
    """A parsed JSONPath (the spec already checked that it parses)."""
    return parse(expression)


def first_match(expression: str, body: Any) -> Any:
    """The first value a JSONPath selects in a body, or None."""
    matches = compiled(expression).find(body)
    return matches[0].value if matches else None


@dataclass(frozen=True)
class PageRequest:
    """Where the next page is: a URL and its query parameters."""

    url: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One fetched page: its 1-based number, request, reply, body and records."""

    number: int
    request: PageRequest
    reply: Reply
    body: Any
    records: list[Record]


def pages(
    spec: Pagination,
    first: PageRequest,
    fetch: Callable[[PageRequest], Reply],
    select: Callable[[Any, int], list[Record]],
    shown: Shown,
) -> Iterator[Page]:
    """Fetch pages lazily, from `first` on, as the pagination spec says."""
    stepper = _Stepper(spec, first, shown)
    request: PageRequest | None = stepper.first()
    previous = b""
    number = 0
    while request is not None:
        if number == spec.max_pages:
            raise SourceError(
                f"{shown(request.url, request.params)}: the API still has pages after "
                f"pagination.max_pages={spec.max_pages}",
                hint="raise pagination.max_pages, or narrow the request with params",
            )
        number += 1
        reply = fetch(request)
        body = reply.json()
        records = select(body, number)
        digest = hashlib.sha256(reply.content).digest()
        if records and digest == previous:
            raise _loop(shown(request.url, request.params), "the same page as the one before")
        previous = digest
        page = Page(number, request, reply, body, records)
        yield page
        request = stepper.next(page) if records else None


def _loop(where: str, what: str) -> SourceError:
    return SourceError(
        f"{where} returned {what}: pagination loop detected",
        hint="check the pagination settings (param names, cursor_path, next_path) "
        "against the API's documentation",
    )


class _Stepper:
    """Works out the request of the next page from the last one."""

    def __init__(self, spec: Pagination, first: PageRequest, shown: Shown) -> None:
        self._spec = spec
        self._base = first
        self._shown = shown
        self._number = spec.start if isinstance(spec, PageNumberPagination) else 0
        self._offset = 0
        self._count = 0
        self._seen: set[str] = set()

    def first(self) -> PageRequest:
        """The first page's request."""
        return self._paged()

    def next(self, page: Page) -> PageRequest | None:
        """The next page's request, or None after the last page."""
        spec = self._spec
        if isinstance(spec, NoPagination):
            return None
        if isinstance(spec, PageNumberPagination | OffsetPagination):
            if self._total_reached(spec.total_path, page):
                return None
            self._number += 1
            self._offset += len(page.records)
            return self._paged()
        if isinstance(spec, CursorPagination):
            return self._cursor(spec, page)
        if isinstance(spec, LinkHeaderPagination):
            return self._follow(page.reply.links.get("next", {}).get("url"), page)
        return self._follow(first_match(spec.next_path, page.body), page)

    def _paged(self) -> PageRequest:
        spec, params = self._spec, dict(self._base.params)
        if isinstance(spec, PageNumberPagination):
            params[spec.param] = self._number
            if spec.size_param and spec.size:
                params[spec.size_param] = spec.size
        elif isinstance(spec, OffsetPagination):
            params |= {spec.offset_param: self._offset, spec.limit_param: spec.limit}
        return PageRequest(self._base.url, params)

    def _total_reached(self, total_path: str | None, page: Page) -> bool:
        self._count += len(page.records)
        if total_path is None:
            return False
        total = first_match(total_path, page.body)
        if total is None:
            return False
        if isinstance(total, bool) or not isinstance(total, int | str) or not str(total).isdigit():
            raise SourceError(
                f"{page.reply.shown}: pagination.total_path {total_path!r} selects {total!r}, "
                "not a record count",
                hint="point total_path at the total number of records, e.g. '$.meta.total'",
            )
        return self._count >= int(total)

    def _cursor(self, spec: CursorPagination, page: Page) -> PageRequest | None:
        cursor = first_match(spec.cursor_path, page.body)
        if cursor is None or cursor == "":
            return None
        key = str(cursor)
        if key in self._seen:
            raise _loop(page.reply.shown, f"cursor {key[:80]!r} a second time")
        self._seen.add(key)
        return PageRequest(self._base.url, {**self._base.params, spec.param: key})

    def _follow(self, target: Any, page: Page) -> PageRequest | None:
        if not isinstance(target, str) or not target:
            return None
        url = urljoin(page.request.url, target)
        if origin_of(url) != origin_of(self._base.url):
            raise SourceError(
                f"{page.reply.shown}: the next page is on another host "
                f"({self._shown(url, {})}); dagsmith does not send credentials there",
                hint="check the connection's host; the API must page on its own host",
            )
        if url in self._seen:
            raise _loop(page.reply.shown, f"the next page {self._shown(url, {})} a second time")
        self._seen.add(url)
        return PageRequest(url)
