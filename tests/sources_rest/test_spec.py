"""The rest source spec and how a connection becomes a base URL."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from connectors.connections import parse_connection
from connectors.errors import SourceError
from connectors.sources.rest import base_url
from connectors.spec.rest import RestSource
from connectors.spec.sources import SourceSpec

MINIMAL = {"kind": "rest", "connection": "shop", "endpoint": "v1/orders"}


def test_rest_is_a_source_kind_with_safe_defaults() -> None:
    source = TypeAdapter(SourceSpec).validate_python(MINIMAL)
    assert isinstance(source, RestSource)
    assert (source.timeout.connect, source.timeout.read) == (10.0, 60.0)
    assert source.auth.type == "none" and source.pagination.type == "none"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "../admin",
        "a/../../b",
        "a/./b",
        "%2E%2E/x",
        "orders?token=1",
        "a\\b",
    ],
)
def test_endpoint_must_stay_on_the_connection_host(endpoint: str) -> None:
    with pytest.raises(ValidationError, match="endpoint must be a path relative"):
        RestSource.model_validate(MINIMAL | {"endpoint": endpoint})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("headers", {"Authorization": "Bearer x"}),
        ("headers", {"X-API-Key": "x"}),
        ("params", {"access_token": "x"}),
        ("params", {"client_secret": "x"}),
    ],
)
def test_credentials_are_refused_in_the_spec(field: str, value: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="looks like a credential"):
        RestSource.model_validate(MINIMAL | {field: value})


@pytest.mark.parametrize(
    "bad",
    [
        {"records": "$["},
        {"json_body": {"q": 1}},
        {"auth": {"type": "oauth2_client_credentials"}},
        {"auth": {"type": "api_key", "in": "cookie", "name": "k"}},
        {"pagination": {"type": "cursor"}},
        {"pagination": {"type": "page_number", "pages": 3}},
        {"retry": {"attempts": 0}},
        {"timeout": {"read": 0}},
    ],
)
def test_invalid_specs_fail_with_their_field(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RestSource.model_validate(MINIMAL | bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://u:p@api.example.com/v1", "https://api.example.com/v1"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://api.example.com/api/v2/", "https://api.example.com/api/v2"),
        ("http://u:p@api.example.com:8443/https", "https://api.example.com:8443"),
        (
            '{"conn_type": "http", "host": "https://api.example.com/v3"}',
            "https://api.example.com/v3",
        ),
    ],
)
def test_base_url_from_a_connection(value: str, expected: str) -> None:
    assert base_url(parse_connection("shop", value)) == expected


def test_a_database_connection_is_not_a_base_url() -> None:
    with pytest.raises(SourceError, match="not an HTTP connection"):
        base_url(parse_connection("shop", "postgresql://u:p@db:5432/x"))
