"""The REST API source (`kind: rest`): JSON records from an HTTP API, page by page.

The base URL is the connection's: `AIRFLOW_CONN_SHOP=https://login:secret@api.shop.com/v1`
gives `https://api.shop.com/v1` (the path is optional). Airflow's HTTP connections,
whose schema field holds the scheme (`http://api.shop.com:8080/https`), work too.
Pages are fetched with the guards of `http.client`, their records spooled by
`http.records`, and read back as batches that share one schema.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from functools import partial
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa
import requests

from connectors.connections import Connection, get_connection
from connectors.errors import SourceError
from connectors.masking import masked_logs
from connectors.runtime import ReadContext
from connectors.sources.http.auth import Authenticator, authenticator, masker_for
from connectors.sources.http.client import Call, HttpClient, Reply
from connectors.sources.http.pagination import PageRequest, compiled, pages
from connectors.sources.http.records import Record, RecordSpool
from connectors.spec.rest import RestSource
from connectors.spec.sources import SourceSpec

log = logging.getLogger("dagsmith")

_SCHEMES = ("http", "https")


def read(spec: SourceSpec, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
    """Stream the records of every page the API gives."""
    if not isinstance(spec, RestSource):
        raise TypeError(f"the rest reader cannot read a {spec.kind!r} source")
    conn = get_connection(spec.connection, ctx.project_dir)
    base = base_url(conn)
    masker = masker_for(conn)
    with requests.Session() as session, masked_logs(masker), RecordSpool(spec.flatten) as spool:
        session.headers["User-Agent"] = "dagsmith"
        client = HttpClient(spec, masker, session)
        auth = authenticator(spec.auth, conn, client, base, masker)
        params = {name: query_value(value) for name, value in spec.params.items()}
        if ctx.since is not None and ctx.since.param is not None:
            params[ctx.since.param] = ctx.since.value
        first = PageRequest(f"{base}/{spec.endpoint.lstrip('/')}", params)
        fetch = partial(_fetch, spec, client, auth)
        for page in pages(spec.pagination, first, fetch, partial(_select, spec), client.shown):
            log.debug("%s: page %d, %d records", page.reply.shown, page.number, len(page.records))
            spool.add(page.records)
        yield from spool.batches(ctx.batch_rows)


def base_url(conn: Connection) -> str:
    """`scheme://host[:port][/path]` of an HTTP connection, without a trailing slash."""
    url = connection_url(conn)
    if url.scheme not in _SCHEMES or not url.hostname:
        raise SourceError(
            f"connection {conn.conn_id!r} is not an HTTP connection with a host "
            f"(type {conn.conn_type!r})",
            hint="set it to a URL such as https://login:password@api.example.com/v1",
        )
    return urlunsplit(url).rstrip("/")


def connection_url(conn: Connection) -> SplitResult:
    """The URL a service's connection names, credentials left out: its type is the scheme,
    unless its host carries one (`https://api.shop.com`, as Airflow allows) or, as in
    Airflow's HTTP connection, its schema field is `http` or `https`."""
    scheme, host, port, path = conn.conn_type.lower(), conn.host or "", conn.port, conn.schema
    if "://" in host:
        parts = urlsplit(host)
        scheme, host, port = parts.scheme, parts.hostname or "", port or parts.port
        path = "/".join(p for p in (parts.path.strip("/"), path) if p)
    elif path in _SCHEMES:
        scheme, path = path or "", None
    netloc = f"{host}:{port}" if port else host
    return SplitResult(scheme, netloc, (path or "").strip("/"), "", "")


def _fetch(spec: RestSource, client: HttpClient, auth: Authenticator, page: PageRequest) -> Reply:
    creds = auth.credentials()
    call = Call(
        spec.method,
        _without_params(page.url, creds.params),
        params={**page.params, **creds.params},
        headers={**spec.headers, **creds.headers},
        json_body=spec.json_body,
        auth_params=creds.params,
    )
    return client.send(call)


def query_value(value: str | int | float | bool) -> str | int | float:
    """JSON's spelling of booleans, which APIs expect, rather than Python's `True`."""
    return ("true" if value else "false") if isinstance(value, bool) else value


def _without_params(url: str, names: Mapping[str, str]) -> str:
    """The URL less the credential parameters a next-page link may echo back."""
    parts = urlsplit(url)
    if not names or not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _select(spec: RestSource, body: Any, number: int) -> list[Record]:
    found = records_in(spec.records, body)
    for index, record in enumerate(found):
        if not isinstance(record, dict):
            raise SourceError(
                f"page {number}: record {index} selected by records={spec.records!r} is "
                f"{type(record).__name__}, not an object",
                hint="point `records` at the objects, e.g. '$.data[*]'",
            )
    return found


def records_in(records: str, body: Any) -> list[Any]:
    """What a `records` JSONPath selects in a JSON body: the elements of the one array it
    selects, else every value it matches (each should be an object)."""
    if body is None:
        return []
    found = [match.value for match in compiled(records).find(body)]
    if len(found) == 1 and isinstance(found[0], list):
        return found[0]
    return found
