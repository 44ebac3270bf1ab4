"""One HTTP exchange done right: timeouts, retries, breaker, rate limit, safe redirects.

Retried: 408, 429, 5xx, timeouts and dropped connections, with jittered exponential
backoff, or the server's Retry-After (seconds or HTTP-date) cut to `retry.max_wait`.
Other 4xx fail at once. Redirects are followed only on the same origin, so custom
credential headers and query parameters never reach another host.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.exceptions import ChunkedEncodingError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from connectors.errors import SourceError, SourceUnavailable
from connectors.masking import Masker
from connectors.sources.http.limits import breaker_for, bucket_for
from connectors.spec.rest import RestSource

log = logging.getLogger("dagsmith")

MAX_REDIRECTS = 5
_RETRIED_4XX = frozenset({408, 429})


def origin_of(url: str) -> str:
    """`scheme://host:port` of a URL, the unit of trust, rate limits and breakers."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass(frozen=True)
class Call:
    """One request; `headers` and `params` may hold credentials, so `repr` hides them."""

    method: str
    url: str
    params: Mapping[str, Any] = field(default_factory=dict, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    json_body: Any = field(default=None, repr=False)
    form: Mapping[str, str] | None = field(default=None, repr=False)
    auth_params: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The credential part of `params`, re-sent when following a redirect."""


@dataclass(frozen=True)
class Reply:
    """A successful response: `shown` is its URL with secrets masked."""

    shown: str
    status: int
    headers: Mapping[str, str]
    links: Mapping[str, Mapping[str, str]]
    content: bytes = field(repr=False)
    preview: str = field(default="", repr=False)
    """The body's first characters, secrets masked, for messages."""

    def json(self) -> Any:
        """The parsed body; a body that is not JSON (HTML, truncated) is a SourceError."""
        if self.status == 204:
            return None
        try:
            return json.loads(self.content)
        except ValueError as exc:
            kind = self.headers.get("Content-Type", "no Content-Type")
            raise SourceError(
                f"{self.shown} answered {self.status} with a body that is not valid JSON "
                f"({kind}, {len(self.content)} bytes, starting {self.preview!r}): {exc}",
                hint="check the endpoint and the connection's base URL; an HTML page is often "
                "a login page, a proxy error or a wrong path",
            ) from None


class _Retryable(Exception):
    """A failed attempt worth another try; `retry_after` is the server's wish, in seconds."""

    def __init__(self, what: str, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _reason(exc: BaseException) -> str:
    """The exception's type, and the operating system's words for its root cause ("Connection
    refused", "Name or service not known"), which never quote the URL."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        found = stack.pop()
        if not isinstance(found, BaseException) or id(found) in seen:
            continue
        seen.add(id(found))
        if isinstance(found, OSError) and found.strerror:
            return f"{type(exc).__name__}: {found.strerror.lower()}"
        stack += [found.__cause__, found.__context__, getattr(found, "reason", None), *found.args]
    return type(exc).__name__


class HttpClient:
    """Sends calls for one REST source: its timeouts, retries, limits and breaker."""

    def __init__(self, spec: RestSource, masker: Masker, session: requests.Session) -> None:
        self._spec = spec
        self._masker = masker
        self._session = session
        self._backoff = wait_random_exponential(
            multiplier=spec.retry.backoff, max=spec.retry.max_wait
        )

    def shown(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """A URL with its query, secrets masked: safe for messages and logs."""
        full = requests.Request("GET", url, params=dict(params or {})).prepare().url or url
        return self._masker.mask(full)

    def send(self, call: Call) -> Reply:
        """Send a call, retrying what is worth retrying; raise a dagsmith error otherwise."""
        retrying = Retrying(
            stop=stop_after_attempt(self._spec.retry.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, call)
        except _Retryable as exc:
            raise SourceUnavailable(
                f"{exc.what} ({self._spec.retry.attempts} attempts)",
                hint="the API may be down or overloaded; the run can be retried later",
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self._spec.retry.max_wait)
        return float(self._backoff(state))

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s; attempt %d of %d, retrying in %.1f s",
            exc.what if isinstance(exc, _Retryable) else exc,
            state.attempt_number,
            self._spec.retry.attempts,
            wait,
        )

    def _attempt(self, call: Call) -> Reply:
        origin = origin_of(call.url)
        breaker = breaker_for(origin, self._spec.breaker)
        breaker.check()
        if self._spec.rate_limit:
            bucket_for(origin, self._spec.rate_limit).acquire()
        what = f"{call.method} {self.shown(call.url, call.params)}"
        try:
            response = self._exchange(call)
        except (requests.Timeout, requests.ConnectionError, ChunkedEncodingError) as exc:
            breaker.failure()
            # Not chained: the library's message holds the full URL, query credentials too.
            raise _Retryable(f"{what} failed: {_reason(exc)}") from None
        status = response.status_code
        if status >= 500 or status in _RETRIED_4XX:
            if status >= 500:
                breaker.failure()
            after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"{what} answered {status} {response.reason}", after)
        breaker.success()
        if status >= 300:
            raise self._refused(what, response)
        return Reply(
            self.shown(response.url),
            status,
            response.headers,
            response.links,
            response.content,
            self._masker.quote(response.content, 60),
        )

    def _exchange(self, call: Call) -> requests.Response:
        method, url, params = call.method, call.url, call.params
        body, form = call.json_body, call.form
        for _ in range(MAX_REDIRECTS + 1):
            response = self._session.request(
                method,
                url,
                params=dict(params),
                headers=dict(call.headers),
                json=body,
                data=form,
                timeout=(self._spec.timeout.connect, self._spec.timeout.read),
                allow_redirects=False,
            )
            if not response.is_redirect:
                return response
            target = urljoin(response.url, response.headers["Location"])
            if origin_of(target) != origin_of(url):
                raise self._cross_host(method, url, params, target)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, body, form = "GET", None, None
            url, params = target, call.auth_params
        raise SourceError(
            f"{call.method} {self.shown(call.url, call.params)} redirected more than "
            f"{MAX_REDIRECTS} times",
            hint="point the connection and endpoint at the final URL",
        )

    def _cross_host(
        self, method: str, url: str, params: Mapping[str, Any], target: str
    ) -> SourceError:
        return SourceError(
            f"{method} {self.shown(url, params)} redirected to another host "
            f"({self.shown(target)}); dagsmith does not send credentials to another host",
            hint=f"if {origin_of(target)} is the right API, make it the connection's host",
        )

    def _refused(self, what: str, response: requests.Response) -> SourceError:
        status = response.status_code
        detail = self._masker.quote(response.content).strip()
        if status in (401, 403):
            hint = "check the connection's credentials and the spec's `auth`"
        elif status == 404:
            hint = "check `endpoint` and the connection's base URL"
        else:
            hint = "check the spec's params, headers and body against the API's documentation"
        return SourceError(
            f"{what} answered {status} {response.reason}" + (f": {detail}" if detail else ""),
            hint=hint,
        )
