"""Credentials reach the API's host only, and never a message, a log line or a repr."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests

from connectors.connections import get_connection
from connectors.errors import SourceError
from connectors.sources.http.auth import authenticator, masker_for
from connectors.sources.http.client import HttpClient
from tests.sources_rest.conftest import SECRET, Answer, ApiServer, Seen, read_table, spec

ROWS = [{"id": 1}]
KEY_IN_QUERY = {"type": "api_key", "in": "query", "name": "key"}
KEY_IN_HEADER = {"type": "api_key", "in": "header", "name": "X-Key"}


def test_401_is_not_retried_and_hides_the_token(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(401, {"error": f"bad token {SECRET}"})
    with pytest.raises(SourceError) as caught:
        read_table(spec(auth=KEY_IN_QUERY), tmp_path)
    message = str(caught.value)
    assert "answered 401" in message and "key=***" in message
    assert SECRET not in message
    assert len(api.hits("/items")) == 1
    assert api.hits("/items")[0].query["key"] == SECRET


def test_retry_logs_mask_a_query_key(
    api: ApiServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    answers = iter([Answer(503), Answer(200, ROWS)])
    api.routes["/items"] = lambda seen: next(answers)
    with caplog.at_level(logging.DEBUG):
        assert read_table(spec(auth=KEY_IN_QUERY), tmp_path).num_rows == 1
    assert "answered 503" in caplog.text
    assert "key=***" in caplog.text, "urllib3's request lines are logged, masked"
    assert SECRET not in caplog.text


def test_repr_of_connection_and_auth_hide_secrets(api: ApiServer, tmp_path: Path) -> None:
    conn = get_connection("api", tmp_path)
    source = spec(auth=KEY_IN_HEADER)
    masker = masker_for(conn)
    client = HttpClient(source, masker, requests.Session())
    auth = authenticator(source.auth, conn, client, api.url, masker)
    for thing in (conn, auth, auth.credentials(), masker):
        assert SECRET not in repr(thing)
    assert auth.credentials().headers == {"X-Key": SECRET}


def test_same_host_redirect_is_followed_with_credentials(api: ApiServer, tmp_path: Path) -> None:
    api.routes["/items"] = lambda seen: Answer(302, headers={"Location": "/v2/items?page=1"})
    api.routes["/v2/items"] = lambda seen: Answer(200, ROWS)
    assert read_table(spec(auth=KEY_IN_QUERY), tmp_path).num_rows == 1
    [moved] = api.hits("/v2/items")
    assert moved.query == {"page": "1", "key": SECRET}


@pytest.mark.parametrize("auth", [KEY_IN_QUERY, KEY_IN_HEADER, {"type": "bearer"}])
def test_cross_host_redirect_is_refused(
    api: ApiServer, tmp_path: Path, auth: dict[str, str]
) -> None:
    port = api.server_address[1]
    # 127.0.0.1 and localhost are two hosts to a client, one server here: we see both.
    api.routes["/items"] = lambda seen: Answer(
        302, headers={"Location": f"http://localhost:{port}/stolen"}
    )
    api.routes["/stolen"] = lambda seen: Answer(200, ROWS)
    with pytest.raises(SourceError, match="redirected to another host") as caught:
        read_table(spec(auth=auth), tmp_path)
    assert SECRET not in str(caught.value)
    assert api.hits("/stolen") == []


def test_next_url_on_another_host_is_refused(api: ApiServer, tmp_path: Path) -> None:
    port = api.server_address[1]
    api.routes["/items"] = lambda seen: Answer(
        200, {"data": ROWS, "next": f"http://localhost:{port}/stolen"}
    )
    source = spec(
        auth=KEY_IN_QUERY, records="$.data", pagination={"type": "next_url", "next_path": "$.next"}
    )
    with pytest.raises(SourceError, match="next page is on another host"):
        read_table(source, tmp_path)
    assert api.hits("/stolen") == []


def test_oauth2_client_credentials(api: ApiServer, tmp_path: Path) -> None:
    issued = "issued-access-token-42"

    def token(seen: Seen) -> Answer:
        form = dict(pair.split("=") for pair in seen.body.decode().split("&"))
        ok = seen.headers.get("Authorization", "").startswith("Basic ")
        if form.get("grant_type") != "client_credentials" or not ok:
            return Answer(400, {"error": "invalid_request"})
        return Answer(200, {"access_token": issued, "token_type": "bearer", "expires_in": 3600})

    def items(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") != f"Bearer {issued}":
            return Answer(401, {"error": "unauthorized"})
        page = int(seen.query.get("page", "1"))
        return Answer(200, {"data": [{"id": page}] if page < 3 else []})

    api.routes["/oauth/token"] = token
    api.routes["/items"] = items
    source = spec(
        records="$.data[*]",
        auth={"type": "oauth2_client_credentials", "token_path": "oauth/token", "scopes": ["r"]},
        pagination={"type": "page_number"},
    )
    assert read_table(source, tmp_path).num_rows == 2
    assert len(api.hits("/oauth/token")) == 1, "the token is reused until it expires"
    assert b"scope=r" in api.hits("/oauth/token")[0].body


def test_oauth2_token_url_on_another_host_is_refused(api: ApiServer, tmp_path: Path) -> None:
    auth = {"type": "oauth2_client_credentials", "token_url": "https://evil.example/token"}
    with pytest.raises(SourceError, match="not on the API's host"):
        read_table(spec(auth=auth), tmp_path)
    assert api.seen == []
