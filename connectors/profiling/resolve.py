"""From what a user types (`dagsmith profile SOURCE ...`) to a source spec.

SOURCE is a file path or fsspec URL (its format detected), an http(s) URL (a REST
endpoint on the host of a connection), or a pipeline spec with a stream name. With a
table or a query, the source is a database reached by a connection id. A bare URL (a
database URL with a table or query, an http(s) URL without a connection) stands for a
connection of its own, `Request.url_connection`, registered in this process's environment
the way `AIRFLOW_CONN_<ID>` works; `dagsmith init` then saves it for the runs to come.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import sqlalchemy as sa
from pydantic import ValidationError

from connectors import dialects, kinds
from connectors.connections import env_var, get_connection
from connectors.errors import SourceRefused, SpecError
from connectors.profiling import formats, profile
from connectors.profiling.model import Profile
from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats
from connectors.sources import rest
from connectors.spec import load_spec
from connectors.spec.rest import RestSource
from connectors.spec.sources import FileSource, SourceSpec
from connectors.spec.sql import SqlSource

BATCH_ROWS = 65_536
URL_CONNECTION = "profile_url"
_AUTH = {(True, True): "basic", (False, True): "bearer"}
"""The auth a connection's credentials suggest: (has login, has password) -> type."""


@dataclass(frozen=True)
class Resolved:
    """The source to profile, the folder its relative paths start from, and the findings."""

    spec: SourceSpec
    base_dir: Path
    findings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """What the command line gave."""

    source: str | None
    connection: str | None = None
    table: str | None = None
    query: str | None = None
    stream: str | None = None
    url_connection: str = URL_CONNECTION
    """The connection id a bare URL in `source` is known by."""
    options: tuple[tuple[str, Any], ...] = ()
    """Source options given with it, as (spec field, value): `dagsmith init --sheet` gives
    an Excel source's `sheet`. Profiling keeps them and finds only the others."""


def url_connection(request: Request) -> tuple[str, str] | None:
    """The connection a bare URL in SOURCE stands for, as (id, value); None without one.

    A database URL (with --table or --query) is the connection itself, a relative SQLite
    path made absolute so it holds from any folder; an http(s) URL's connection is its
    origin (`scheme://[login:password@]host[:port]`), and the rest is the endpoint.
    """
    source = request.source or ""
    if request.connection or request.stream:
        return None
    database = bool(request.table or request.query)
    if is_database_url(source) != database:
        return None
    value = connection_value(source)
    return (request.url_connection, value) if value else None


def is_database_url(url: str) -> bool:
    """Whether `url` is a SQLAlchemy database URL (`postgresql+psycopg2://...`, `sqlite:///`)."""
    return dialects.is_database_scheme(urlsplit(url).scheme)


def connection_value(url: str) -> str | None:
    """The connection a bare URL stands for: a database URL itself (a relative SQLite path
    made absolute), an http(s) URL's origin, and a feed's (`wss://host`); None otherwise."""
    if is_database_url(url):
        return sqlite_absolute(url)
    kind = kinds.kind_of_url(url)
    if kind is None or not kind.origin_is_connection:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def sqlite_absolute(url: str) -> str:
    """The URL with a relative SQLite path made absolute, so it holds from any folder."""
    parsed = sa.make_url(url)
    database = parsed.database or ""
    dialect = dialects.known(parsed)
    if dialect is None or not dialect.file_database or database in ("", ":memory:"):
        return url
    if Path(database).is_absolute() or database.startswith("file:"):
        return url
    return parsed.set(database=str(Path(database).resolve())).render_as_string(False)


def resolve(request: Request, ctx: ReadContext) -> Resolved:
    """The source spec a request names, with the options it gives.

    Raises:
        SpecError: The arguments do not name one source, or give an option its kind has not.
        SourceError: A file's format cannot be told.
        SourceRefused: A URL is not on the connection's host.
    """
    resolved = _resolve(request, ctx)
    if not request.options:
        return resolved
    return replace(resolved, spec=_given(resolved.spec, dict(request.options)))


def _given(spec: SourceSpec, options: dict[str, Any]) -> SourceSpec:
    """The spec with the options set (and counted as set, so profiling keeps them)."""
    model = kinds.kind_of(spec).model
    unknown = sorted(set(options) - set(model.model_fields))
    if unknown:
        raise SpecError(
            f"a {spec.kind} source has no option {', '.join(unknown)}",
            hint="see docs/sources.md for the options of each kind of source",
        )
    written = spec.model_dump(mode="json", exclude_unset=True, by_alias=True)
    try:
        given: SourceSpec = model.model_validate({**written, **options})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SpecError(f"{spec.kind} source: {problems}") from None
    return given


def _resolve(request: Request, ctx: ReadContext) -> Resolved:
    if bare := url_connection(request):
        os.environ[env_var(bare[0])] = bare[1]
        request = replace(request, connection=bare[0])
    if request.table or request.query:
        connection = request.connection
        if not connection:
            raise SpecError(
                "--table and --query need a database: --connection ID, or a SQLAlchemy URL "
                "as SOURCE"
            )
        sql = SqlSource(kind="sql", connection=connection, table=request.table, query=request.query)
        return Resolved(sql, ctx.base_dir)
    if not request.source:
        raise SpecError("give a SOURCE: a file, a URL, or a pipeline spec with --stream")
    if request.stream:
        path = Path(request.source)
        folder = path.resolve().parent
        return Resolved(_absolute(_stream(path, request.stream), folder), folder)
    if request.source.startswith(("http://", "https://")):
        return Resolved(_rest(request, ctx), ctx.base_dir)
    if (named := kinds.named_by_url(request.source, request.connection)) is not None:
        return Resolved(named, ctx.base_dir)
    spec, findings = formats.detect(request.source, ctx)
    return Resolved(_absolute(spec, ctx.base_dir), ctx.base_dir, findings)


def profile_request(
    request: Request, *, project_dir: Path, rows: int, full: bool, with_quality: bool
) -> Profile:
    """Resolve a request and profile its source; local file paths come back absolute."""
    ctx = context(project_dir)
    resolved = resolve(request, ctx)
    ctx = replace(ctx, base_dir=resolved.base_dir)
    return profile(
        resolved.spec,
        ctx,
        rows=rows,
        full=full,
        with_quality=with_quality,
        findings=resolved.findings,
    )


def context(project_dir: Path) -> ReadContext:
    """A read context for profiling: rows a reader rejects are counted, then dropped."""
    run = RunInfo("profile", "profile", "profile", datetime.now(UTC))
    return ReadContext(
        base_dir=project_dir,
        batch_rows=BATCH_ROWS,
        rejects=Rejects(run, StreamStats()),
        project_dir=project_dir,
    )


def _absolute(spec: SourceSpec, folder: Path) -> SourceSpec:
    """A file source whose local path no longer depends on the working folder."""
    if not isinstance(spec, FileSource) or "://" in spec.path:
        return spec
    return spec.model_copy(update={"path": str((folder / spec.path).resolve())})


def _stream(path: Path, name: str) -> SourceSpec:
    pipeline = load_spec(path)
    try:
        source = pipeline.stream(name).source
    except KeyError as exc:
        raise SpecError(f"{path}: {exc.args[0]}") from None
    # A pipeline's source reads as written: every option counts as set, defaults too, so
    # profiling finds none anew (an Excel header row it leaves at 1).
    return source.model_copy(update=dict(source))


def _rest(request: Request, ctx: ReadContext) -> RestSource:
    """A REST source for a URL on the host of the connection (which holds any credentials)."""
    assert request.connection is not None, "a bare URL has its own connection (resolve)"
    conn = get_connection(request.connection, ctx.project_dir)
    base = rest.base_url(conn)
    assert request.source is not None
    parts = urlsplit(request.source)
    # Credentials in the URL belong to the connection: compare and cut without them.
    url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    if not url.startswith(base + "/"):
        raise SourceRefused(
            f"{parts.hostname} is not under connection {request.connection!r}'s base URL",
            hint="profile only URLs on the connection's host and path",
        )
    endpoint = url[len(base) + 1 :].split("?", 1)[0]
    auth = _AUTH.get((bool(conn.login), bool(conn.password)), "none")
    return RestSource.model_validate(
        {
            "kind": "rest",
            "connection": request.connection,
            "endpoint": endpoint,
            "params": dict(parse_qsl(parts.query, keep_blank_values=True)),
            "auth": {"type": auth},
        }
    )
