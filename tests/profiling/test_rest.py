"""Profiles of REST endpoints on loopback servers: json-server and a server of our own."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from connectors.errors import SourceError
from connectors.profiling import Count, Profile
from connectors.profiling.resolve import Request, profile_request
from tests.conftest import Cli
from tests.sources_rest.conftest import SECRET, Answer, ApiServer, Seen, api, json_server

__all__ = ["api", "json_server"]  # fixtures used by name


def _profile(url: str, connection: str) -> Profile:
    request = Request(url, connection=connection)
    return profile_request(
        request, project_dir=Path.cwd(), rows=1000, full=False, with_quality=True
    )


def test_json_server_link_header_pagination_and_nesting(
    json_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP", json_server)
    found = _profile(f"{json_server}/orders?_page=1&_limit=10", "shop")
    # The Link header's next URL moves `_page` by one: json-server pages by number.
    assert found.format["pagination"] == "page_number"
    assert found.source["pagination"] == {
        "type": "page_number",
        "param": "_page",
        "size_param": "_limit",
        "size": 10,
    }
    assert "params" not in found.source
    assert found.format["auth_required"] is False
    assert found.sampled_rows == 25 and found.rows == Count(25, estimated=False)
    assert {"customer", "customer.address", "tags"} <= set(found.nested)
    assert found.keys[0] == ["id"]
    assert found.column("customer_address_city").inferred.type == "string"


def _guarded(seen: Seen) -> Answer:
    expected = "Basic " + base64.b64encode(f"client:{SECRET}".encode()).decode()
    if seen.headers.get("Authorization") != expected:
        return Answer(401, {"error": "login required"})
    rows = [{"id": i, "created_at": f"2026-03-0{1 + i // 3}T0{i % 3}:00:00Z"} for i in range(9)]
    if seen.query.get("cursor") == "abc":
        return Answer(200, {"data": rows[6:], "next_cursor": None})
    return Answer(200, {"data": rows[:6], "next_cursor": "abc"})


def test_own_server_cursor_records_path_and_auth(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.routes["/v1/items"] = _guarded
    found = _profile(f"{api.url}/v1/items", "api")
    assert found.format["records"] == "$.data"
    assert found.format["pagination"] == "cursor"
    assert found.source["pagination"] == {
        "type": "cursor",
        "cursor_path": "$.next_cursor",
    }  # `param: cursor` is the default
    assert found.rows == Count(9, estimated=False)
    assert found.format["auth_required"] is True
    assert found.column("created_at").inferred.type == "timestamptz"
    assert found.cursors[0] == "created_at"
    assert {s.path for s in api.seen} == {"/v1/items"}  # only the connection's host


def test_url_off_the_connection_host_is_refused(api: ApiServer) -> None:
    with pytest.raises(SourceError, match="not under connection 'api'"):
        _profile("http://example.com/items", "api")
    assert not api.seen


def test_cli_json_never_shows_the_secret(api: ApiServer, tmp_path: Path, dagsmith: Cli) -> None:
    api.routes["/v1/items"] = _guarded
    result = dagsmith(
        "profile", f"{api.url}/v1/items", "--connection", "api", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert '"auth_required": true' in result.stdout
    assert SECRET not in result.stdout + result.stderr
