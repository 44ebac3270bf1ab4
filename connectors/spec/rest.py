"""The REST API source spec: where to call, how to authenticate, page, pace and retry.

The spec never holds a URL with credentials or a secret: the base URL and every
credential come from the connection it names, so a spec can be reviewed and shared.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from connectors.spec.base import ConnectionId, SourceModel, SpecModel

# Names that smell of credentials: those belong in the connection, not in the spec.
SECRET_NAME = re.compile(
    r"authorization|cookie|token|secret|password|passwd|api[-_]?key|apikey|signature", re.I
)
_FORBIDDEN_PATH = re.compile(r"(^|/)\.\.?(/|$)|%2e|\\|[?#]|[\x00-\x1f]", re.I)


def _jsonpath(value: str) -> str:
    # Imported by the specs that have a JSONPath: its parser costs every process 0.02 s.
    from jsonpath_ng.exceptions import JSONPathError
    from jsonpath_ng.ext.parser import parse as parse_jsonpath

    try:
        parse_jsonpath(value)
    except JSONPathError as exc:
        message = f"{value!r} is not a JSONPath expression (such as '$.data[*]'): {exc}"
        raise ValueError(message) from None
    return value


JsonPath = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_jsonpath)]
"""A JSONPath expression such as `$.data[*]` or `$.meta.next_cursor`."""


def relative_path(value: str, field: str) -> str:
    """Check that a path stays on the connection's host: relative, no `..`, no query."""
    if "://" in value or value.startswith("//") or _FORBIDDEN_PATH.search(value):
        raise ValueError(
            f"{field} must be a path relative to the connection's base URL (such as "
            "'v1/orders'), without a scheme or host, '.' or '..' segments, '?' or '#'; "
            "put query parameters in 'params'"
        )
    return value


def _no_secret_names(values: dict[str, Any], field: str) -> dict[str, Any]:
    for name in values:
        if SECRET_NAME.search(name):
            raise ValueError(
                f"{field} {name!r} looks like a credential; secrets live in the connection "
                "(its password, login or extra) and reach the request through 'auth'"
            )
    return values


class NoAuth(SpecModel):
    """No authentication."""

    type: Literal["none"] = "none"


class BearerAuth(SpecModel):
    """`Authorization: Bearer <token>`; the token is the connection's password
    (or its extra `token`)."""

    type: Literal["bearer"]


class ApiKeyAuth(SpecModel):
    """A key sent in a header or a query parameter; the key is the connection's password
    (or its extra `api_key`)."""

    type: Literal["api_key"]
    in_: Literal["header", "query"] = Field(
        default="header", alias="in", description="Send the key as a header or a query parameter."
    )
    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Header or query parameter name, e.g. 'X-Api-Key' or 'api_key'.",
    )


class BasicAuth(SpecModel):
    """HTTP Basic: the connection's login and password."""

    type: Literal["basic"]


class OAuth2ClientCredentials(SpecModel):
    """OAuth 2 client credentials: the connection's login is the client id and its password
    the client secret (or its extra `client_id` / `client_secret`). The token endpoint
    must be on the same host as the API."""

    type: Literal["oauth2_client_credentials"]
    token_path: str | None = Field(
        default=None,
        description="Path of the token endpoint from the host's root, e.g. 'oauth/token'.",
    )
    token_url: str | None = Field(
        default=None,
        description="Full URL of the token endpoint; its host must be the API's host.",
    )
    scopes: list[str] = Field(default_factory=list, description="Scopes to request.")
    client_auth: Literal["basic", "body"] = Field(
        default="basic",
        description="Send the client id and secret as HTTP Basic (RFC 6749 default) or "
        "as form fields.",
    )

    @model_validator(mode="after")
    def _one_endpoint(self) -> OAuth2ClientCredentials:
        if (self.token_path is None) == (self.token_url is None):
            raise ValueError("give exactly one of token_path and token_url")
        if self.token_path is not None:
            relative_path(self.token_path, "token_path")
        if self.token_url is not None and not re.match(r"^https?://", self.token_url):
            raise ValueError("token_url must be an http(s) URL")
        return self


Auth = Annotated[
    NoAuth | BearerAuth | ApiKeyAuth | BasicAuth | OAuth2ClientCredentials,
    Field(discriminator="type"),
]


class _Paging(SpecModel):
    max_pages: int = Field(
        default=1000,
        ge=1,
        description="Fail if the API still has pages after this many (a guard against "
        "endless pagination).",
    )


class NoPagination(_Paging):
    """One request, one page."""

    type: Literal["none"] = "none"


class _Counted(_Paging):
    total_path: JsonPath | None = Field(
        default=None,
        description="JSONPath of the total record count in the body, e.g. '$.meta.total'; "
        "paging stops once that many records were read.",
    )


class PageNumberPagination(_Counted):
    """`?page=1`, `?page=2`, ... until an empty page (or the total is reached)."""

    type: Literal["page_number"]
    param: str = Field(default="page", min_length=1, description="Page number parameter.")
    start: int = Field(default=1, ge=0, description="Number of the first page.")
    size_param: str | None = Field(default=None, description="Page size parameter, if any.")
    size: int | None = Field(default=None, ge=1, description="Page size to ask for.")


class OffsetPagination(_Counted):
    """`?offset=0&limit=100`, then offset += records received, until an empty page."""

    type: Literal["offset"]
    offset_param: str = Field(default="offset", min_length=1)
    limit_param: str = Field(default="limit", min_length=1)
    limit: int = Field(default=100, ge=1, description="Records to ask for per page.")


class CursorPagination(_Paging):
    """The body names the next cursor; it is sent back as a query parameter."""

    type: Literal["cursor"]
    cursor_path: JsonPath = Field(
        description="JSONPath of the next cursor in the body, e.g. '$.meta.next_cursor'; "
        "missing, null or empty means the last page."
    )
    param: str = Field(default="cursor", min_length=1, description="Cursor query parameter.")


class LinkHeaderPagination(_Paging):
    """The `Link: <...>; rel="next"` response header (RFC 8288) gives the next page."""

    type: Literal["link_header"]


class NextUrlPagination(_Paging):
    """The body holds the URL of the next page (absolute or relative, same host)."""

    type: Literal["next_url"]
    next_path: JsonPath = Field(description="JSONPath of the next page's URL, e.g. '$.next'.")


Pagination = Annotated[
    NoPagination
    | PageNumberPagination
    | OffsetPagination
    | CursorPagination
    | LinkHeaderPagination
    | NextUrlPagination,
    Field(discriminator="type"),
]


class RateLimit(SpecModel):
    """A request budget per host, shared by every stream of the process that calls it."""

    requests: int = Field(ge=1, description="Requests allowed per period.")
    per: Literal["second", "minute"] = Field(default="second", description="The period.")

    @property
    def per_second(self) -> float:
        """Requests allowed per second."""
        return self.requests / (1 if self.per == "second" else 60)


class Retry(SpecModel):
    """Retries of 408, 429, 5xx, timeouts and dropped connections (never other 4xx)."""

    attempts: int = Field(default=5, ge=1, le=20, description="Tries per request, the first too.")
    backoff: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Base of the jittered exponential backoff, in seconds (waits up to "
        "backoff, 2x, 4x, ...).",
    )
    max_wait: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Longest single wait in seconds; a longer Retry-After is cut to this.",
    )


class Timeout(SpecModel):
    """Seconds to wait for a connection and for each read of the response."""

    connect: float = Field(default=10.0, gt=0, le=300)
    read: float = Field(default=60.0, gt=0, le=3600)


class Breaker(SpecModel):
    """A circuit breaker per host: after this many consecutive failures, calls to the host
    fail at once until `reset` seconds have passed."""

    failures: int = Field(default=5, ge=1, description="Consecutive failures that open it.")
    reset: float = Field(default=30.0, gt=0, description="Seconds before a trial request.")


class RestSource(SourceModel):
    """Records from a JSON HTTP API, page by page."""

    kind: Literal["rest"]
    connection: ConnectionId = Field(
        description="Connection id giving the base URL (scheme, host, port and an optional "
        "path prefix, e.g. https://api.example.com/v1) and the credentials (login, password, "
        "extra). Secrets never go in the spec."
    )
    endpoint: str = Field(
        min_length=1,
        max_length=1000,
        description="Path appended to the base URL, e.g. 'orders' or 'v2/customers'. "
        "Relative only: no scheme, host or '..'.",
    )
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Query parameters (no credentials)."
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra request headers (no credentials)."
    )
    json_body: dict[str, Any] | list[Any] | None = Field(
        default=None, description="JSON body of a POST request."
    )
    records: JsonPath = Field(
        default="$",
        description="JSONPath selecting the records in each response, e.g. '$.data[*]'. "
        "A path that selects one array takes its elements; each record must be an object.",
    )
    flatten: Literal["underscore", "json"] = Field(
        default="underscore",
        description="Nested objects: 'underscore' makes {'a': {'b': 1}} a column 'a_b'; "
        "'json' keeps each nested object as a JSON text column. Arrays are JSON text.",
    )
    auth: Auth = Field(default_factory=NoAuth, description="How to authenticate.")
    pagination: Pagination = Field(default_factory=NoPagination, description="How to page.")
    rate_limit: RateLimit | None = Field(default=None, description="Request budget per host.")
    retry: Retry = Field(default_factory=Retry)
    timeout: Timeout = Field(default_factory=Timeout)
    breaker: Breaker = Field(default_factory=Breaker)

    @field_validator("endpoint")
    @classmethod
    def _relative_endpoint(cls, value: str) -> str:
        return relative_path(value, "endpoint")

    @field_validator("params", "headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return _no_secret_names(value, str(info.field_name).rstrip("s"))

    @model_validator(mode="after")
    def _body_needs_post(self) -> RestSource:
        if self.json_body is not None and self.method != "POST":
            raise ValueError("json_body is sent only with method: POST")
        return self
