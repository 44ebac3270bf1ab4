"""Credentials for each request, taken from the connection, never from the spec.

Bearer token and API key: the connection's password (or extra `token` / `api_key`).
Basic: its login and password. OAuth 2 client credentials: its login and password
(or extra `client_id` / `client_secret`), exchanged for a token on the API's own host.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from connectors.connections import Connection
from connectors.errors import SourceError, SourceRefused
from connectors.masking import SECRET_EXTRAS, Masker
from connectors.sources.http.client import Call, HttpClient, origin_of
from connectors.spec.rest import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2ClientCredentials,
)

# Renew a token this long (at most half its life) before the server says it expires.
_EXPIRY_MARGIN = 30.0


@dataclass(frozen=True)
class Credentials:
    """What one request carries to prove who it is."""

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    params: Mapping[str, str] = field(default_factory=dict, repr=False)


class Authenticator(Protocol):
    """Gives the credentials of the next request."""

    def credentials(self) -> Credentials:
        """Credentials valid now."""
        ...


def masker_for(conn: Connection) -> Masker:
    """A masker that knows every secret the connection holds, and the Basic headers they
    make with its login or client id."""
    secrets = [
        conn.password,
        *(str(conn.extra[key]) for key in SECRET_EXTRAS if conn.extra.get(key)),
    ]
    masker = Masker(secrets)
    for login in {conn.login or "", str(conn.extra.get("client_id") or "")}:
        for secret in secrets:
            masker.add_login(login, secret)
    return masker


@dataclass(frozen=True)
class Static:
    """Credentials that never change: none, bearer, API key, basic."""

    fixed: Credentials

    def credentials(self) -> Credentials:
        """The same credentials every time."""
        return self.fixed


def authenticator(
    spec: Auth, conn: Connection, client: HttpClient, base_url: str, masker: Masker
) -> Authenticator:
    """The authenticator a spec's `auth` asks for, fed by the connection."""
    if isinstance(spec, NoAuth):
        return Static(Credentials())
    if isinstance(spec, BearerAuth):
        token = _secret(conn, "token", conn.password, "bearer")
        return Static(Credentials(headers={"Authorization": f"Bearer {token}"}))
    if isinstance(spec, ApiKeyAuth):
        key = _secret(conn, "api_key", conn.password, "api_key")
        if spec.in_ == "header":
            return Static(Credentials(headers={spec.name: key}))
        return Static(Credentials(params={spec.name: key}))
    if isinstance(spec, BasicAuth):
        password = _secret(conn, "password", conn.password, "basic")
        return Static(Credentials(headers={"Authorization": basic(conn.login or "", password)}))
    return OAuth2(spec, conn, client, _token_url(spec, base_url, conn), masker)


def basic(user: str, password: str) -> str:
    """An HTTP Basic `Authorization` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _secret(conn: Connection, extra: str, fallback: str | None, auth: str) -> str:
    value = conn.extra.get(extra) or fallback
    if not value:
        raise SourceError(
            f"connection {conn.conn_id!r} has no password (nor extra {extra!r}) for {auth} auth",
            hint="put the secret in the connection's password",
        )
    return str(value)


def _token_url(spec: OAuth2ClientCredentials, base_url: str, conn: Connection) -> str:
    if spec.token_path is not None:
        root = f"{urlsplit(base_url).scheme}://{urlsplit(base_url).netloc}/"
        return urljoin(root, spec.token_path.lstrip("/"))
    url = spec.token_url or ""
    if origin_of(url) != origin_of(base_url):
        raise SourceRefused(
            f"auth.token_url {url!r} is not on the API's host {origin_of(base_url)} "
            f"(connection {conn.conn_id!r}); client secrets are sent only to the API's host",
            hint="use auth.token_path for a token endpoint on the API's host",
        )
    return url


class OAuth2:
    """OAuth 2 client credentials: fetches a token, reuses it until shortly before expiry."""

    def __init__(
        self,
        spec: OAuth2ClientCredentials,
        conn: Connection,
        client: HttpClient,
        token_url: str,
        masker: Masker,
    ) -> None:
        self._spec = spec
        self._conn = conn
        self._client = client
        self._token_url = token_url
        self._masker = masker
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"OAuth2(token_url={self._token_url!r})"

    def credentials(self) -> Credentials:
        """A bearer header with a valid token, fetched when needed."""
        if self._token is None or time.monotonic() >= self._expires:
            self._fetch()
        return Credentials(headers={"Authorization": f"Bearer {self._token}"})

    def _fetch(self) -> None:
        client_id = _secret(self._conn, "client_id", self._conn.login, "oauth2 client id")
        secret = _secret(self._conn, "client_secret", self._conn.password, "oauth2")
        form = {"grant_type": "client_credentials"}
        if self._spec.scopes:
            form["scope"] = " ".join(self._spec.scopes)
        headers = {"Accept": "application/json"}
        if self._spec.client_auth == "basic":
            headers["Authorization"] = basic(client_id, secret)
        else:
            form |= {"client_id": client_id, "client_secret": secret}
        reply = self._client.send(Call("POST", self._token_url, headers=headers, form=form))
        body = reply.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError(
                f"the token endpoint {reply.shown} answered without an access_token",
                hint="check auth.token_path / token_url and the connection's client id",
            )
        self._masker.add(token)
        self._token = token
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else 3600.0
        self._expires = time.monotonic() + seconds - min(_EXPIRY_MARGIN, seconds / 2)
