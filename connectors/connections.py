"""Connections by id, resolved the way Airflow does, so one setting works in and out of it.

The project's active environment (`connectors.environments`) first maps a spec's id to the
deployment's. Order: the Airflow connection (inside an Airflow worker or DAG parse: any
secrets backend the deployment configures), then the environment variable
`AIRFLOW_CONN_<ID>`, then the project's `.env`. A spec with no target uses the environment's
default target, else an embedded DuckDB file in the project. Values are Airflow connection URIs
(`postgresql://user:pass@host:5432/db`) or Airflow's JSON form; any SQLAlchemy URL works too.
A file database's target stays text (`Target.address`): a run into SQLite never imports
SQLAlchemy.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from dotenv import dotenv_values

from connectors import dialects, environments
from connectors.airflow_context import in_airflow
from connectors.dialects.base import file_url
from connectors.dialects.duckdb import DUCKDB
from connectors.errors import ConnectionNotFound, SpecError
from connectors.masking import SECRET_EXTRAS, register
from connectors.spec.uses import TARGET, connections

if TYPE_CHECKING:
    import sqlalchemy as sa

    from connectors.dialects.base import Address
    from connectors.spec.models import Pipeline

log = logging.getLogger("dagsmith")

EMBEDDED_PATH = Path(".dagsmith") / "warehouse.duckdb"


@dataclass(frozen=True)
class Target:
    """A resolved database: `address` (and `url`) carry the secret, `label` never does."""

    address: Address
    """Its SQLAlchemy URL, or that URL's text (a file database's, read without SQLAlchemy)."""
    conn_id: str | None

    @cached_property
    def url(self) -> sa.URL:
        """The SQLAlchemy URL (SQLAlchemy imported on first use)."""
        import sqlalchemy as sa

        return sa.make_url(self.address)

    @property
    def label(self) -> str:
        """The URL with its password masked, for logs and summaries."""
        return dialects.dialect_for(self.address).shown(self.address)

    @property
    def embedded(self) -> bool:
        """Whether this is the project's embedded DuckDB file (no target configured)."""
        return self.conn_id is None

    @property
    def browse(self) -> str | None:
        """How to look at the rows of the embedded file; None for a configured target."""
        if not self.embedded:
            return None
        from connectors.loaders.duckdb import browse_hint  # the driver loads only when asked

        return browse_hint(str(self.url.database))


def env_var(conn_id: str) -> str:
    """The environment variable Airflow reads for a connection id."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def resolve_target(conn_id: str | None, project_dir: Path, *, create: bool = True) -> Target:
    """The database behind a spec's `target`: with none, the environment's default target,
    else the embedded DuckDB file (its folder made unless `create` is false)."""
    env = environments.active(project_dir)
    real = env.connection(conn_id) if conn_id is not None else env.settings.target
    if real is None:
        path = (project_dir / EMBEDDED_PATH).resolve()
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        return Target(file_url(DUCKDB.driver, str(path), {}), None)
    value = _value(real, project_dir, env.naming(conn_id))
    return Target(database_address(parse_connection(real, value)), real)


def lookup(conn_id: str, project_dir: Path) -> str:
    """The connection value (URI or JSON) for a spec's id; ConnectionNotFound says where to
    set it.

    Inside Airflow this is the connection object in Airflow's JSON form, which keeps every
    field and extra as they are (a URI would not).
    """
    env = environments.active(project_dir)
    return _value(env.connection(conn_id), project_dir, env.naming(conn_id))


def unset_connections(spec: Pipeline, project_dir: Path) -> list[str]:
    """Each connection the active environment maps the spec's ids (and a missing target) to
    that is not set here, as `dagsmith run` says it, with what uses it ([] without an
    environment). An id the environment does not define is `undefined_connections`'."""
    env = environments.active(project_dir)
    if env.name is None:
        return []
    used: list[tuple[str | None, list[str]]] = [*connections(spec).items()]
    if spec.target is None and env.settings.target is not None:
        used.append((None, [TARGET]))
    problems = []
    for conn_id, uses in used:
        try:
            real = env.connection(conn_id) if conn_id is not None else env.settings.target
        except ConnectionNotFound:
            continue
        assert real is not None, "a missing target is listed only when the environment has one"
        try:
            _value(real, project_dir, env.naming(conn_id))
        except ConnectionNotFound as exc:
            problems.append(f"{exc.message}, used by {' and '.join(uses)} (hint: {exc.hint})")
    return problems


def _value(real: str, project_dir: Path, naming: str) -> str:
    """The value of the deployment's connection `real`; `naming` says what the spec calls
    it (`Active.naming`)."""
    from_airflow = _from_airflow(real)
    if from_airflow is not None:
        return from_airflow.as_json()
    return _configured(real, project_dir, naming)


def _configured(conn_id: str, project_dir: Path, naming: str) -> str:
    """The value of `AIRFLOW_CONN_<ID>` in the environment or the project's `.env`."""
    name = env_var(conn_id)
    if value := os.environ.get(name):
        return value
    dotenv = project_dir / ".env"
    if dotenv.is_file() and (value := dotenv_values(dotenv).get(name)):
        return value
    raise ConnectionNotFound(
        f"connection {conn_id!r}{naming} is not configured",
        hint=f"set {name} to its URL (postgresql://user:password@host:5432/db, "
        f"https://api.example.com, kafka://broker:9092...) in the environment or in {dotenv} "
        "(or create the connection in Airflow)",
    )


def _from_airflow(conn_id: str) -> Connection | None:
    """The connection from Airflow's own store, inside an Airflow task (or `asking_airflow`).

    Read from the Connection object's fields and `extra_dejson`, never from `get_uri()`,
    which loses meaning (a host holding a scheme, extras that are not strings). None when
    not in a task, or when Airflow has no such connection: the environment and `.env` are
    asked next, as outside Airflow.
    """
    if not in_airflow():
        return None
    from airflow.sdk import BaseHook  # only inside a worker: Airflow is installed there
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        found = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    return Connection(
        conn_id,
        found.conn_type or "",
        found.host or None,
        found.port,
        found.login,
        found.password,
        found.schema or None,
        dict(found.extra_dejson),
    )


@dataclass(frozen=True)
class Connection:
    """An Airflow-style connection, parsed. `repr` hides the password and extras."""

    conn_id: str
    conn_type: str
    host: str | None = None
    port: int | None = None
    login: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def as_json(self) -> str:
        """Airflow's JSON form of this connection (which `parse_connection` reads back whole)."""
        fields = {
            "conn_type": self.conn_type,
            "host": self.host,
            "port": self.port,
            "login": self.login,
            "password": self.password,
            "schema": self.schema,
            "extra": self.extra,
        }
        return json.dumps({key: value for key, value in fields.items() if value})


def get_connection(conn_id: str, project_dir: Path) -> Connection:
    """Look up and parse a spec's connection: Airflow's object inside a task, else URI or
    JSON (its `conn_id` is the deployment's, after the environment's mapping)."""
    env = environments.active(project_dir)
    real = env.connection(conn_id)
    found = _from_airflow(real)
    if found is not None:
        return _masked(found)
    return parse_connection(real, _configured(real, project_dir, env.naming(conn_id)))


def parse_connection(conn_id: str, value: str) -> Connection:
    """Parse Airflow's URI form (`type://login:password@host:port/schema?extra=...`) or JSON.

    Read as Airflow reads `AIRFLOW_CONN_<ID>`: `postgresql` is type `postgres`, a host may
    carry its own scheme (`http://https%3A%2F%2Fapi.shop.com` or `http://https://api...`),
    and `?__extra__=<json>` holds extras that are not strings.
    Its secrets are registered with the process's masker (logs, rejects, Airflow's masker).
    """
    return _masked(_parse(conn_id, value))


def _masked(conn: Connection) -> Connection:
    """Register the connection's secrets with the process's masker, then hand it back."""
    for secret in (conn.password, *(conn.extra.get(key) for key in SECRET_EXTRAS)):
        if secret:
            register(str(secret))
            register(f"{conn.login or ''}:{secret}")
    return conn


def _parse(conn_id: str, value: str) -> Connection:
    value = value.strip()
    try:
        return _from_json(conn_id, value) if value.startswith("{") else _from_uri(conn_id, value)
    except (ValueError, TypeError, KeyError, AttributeError):
        # The value holds a password: say where it came from, never what it is.
        raise SpecError(
            f"connection {conn_id!r} ({env_var(conn_id)}) is not a valid connection URI or JSON",
            hint="use e.g. postgresql://user:password@host:5432/db",
        ) from None


def _from_json(conn_id: str, value: str) -> Connection:
    data = json.loads(value)
    extra = data.get("extra") or {}
    return Connection(
        conn_id,
        _conn_type(str(data.get("conn_type") or "")),
        data.get("host") or None,
        int(data["port"]) if data.get("port") else None,
        data.get("login"),
        data.get("password"),
        data.get("schema") or None,
        _extra_object(json.loads(extra) if isinstance(extra, str) else extra),
    )


_EXTRA_KEY = "__extra__"


def _from_uri(conn_id: str, value: str) -> Connection:
    """Airflow's `Connection.from_uri`: a second `://` means the host carries a scheme."""
    schemes = value.count("://")
    if schemes > 2:
        raise ValueError("more than two schemes")
    conn_type = urlsplit(value).scheme
    with_scheme = schemes == 2
    rest = value.replace(f"{conn_type}://", "" if with_scheme else "//", 1)
    if with_scheme and any(sign in rest.split("://", 1)[0] for sign in "@:"):
        raise ValueError("a host's scheme holds a login or port")
    parts = urlsplit(rest)
    host = _hostname(parts)
    if host and with_scheme:
        host = f"{parts.scheme}://{host}"
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = json.loads(query[_EXTRA_KEY]) if _EXTRA_KEY in query else query
    return Connection(
        conn_id,
        _conn_type(conn_type),
        host or None,
        parts.port,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        unquote(parts.path[1:]) or None,
        _extra_object(extra),
    )


def _hostname(parts: SplitResult) -> str:
    """The host as Airflow reads it: case and a path kept when the host holds a '/'."""
    host = unquote(parts.hostname or "")
    if "/" in host:
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        host = unquote(host)
    return host


def _conn_type(conn_type: str) -> str:
    """Airflow's spelling of a connection type (`postgres`, underscores for dashes)."""
    return dialects.AIRFLOW_TYPES.get(conn_type, conn_type.replace("-", "_"))


def _extra_object(extra: Any) -> dict[str, Any]:
    if not isinstance(extra, dict):
        raise TypeError("extra is not a JSON object")
    return dict(extra)


def to_sqlalchemy_url(value: str, conn_id: str) -> sa.URL:
    """Turn an Airflow connection URI or JSON into a SQLAlchemy URL."""
    return database_url(parse_connection(conn_id, value))


# Extras that Airflow's database hooks read themselves: handing them to the driver (libpq,
# PyMySQL) fails the connection as an unknown option.
_HOOK_EXTRAS = frozenset(
    {
        "aws_conn_id",
        "azure_conn_id",
        "client",
        "cluster-identifier",
        "cursor",
        "enable_log_db_messages",
        "iam",
        "redshift",
        "redshift-serverless",
        "sqlalchemy_query",
        "sqlalchemy_scheme",
        "workgroup-name",
    }
)


def database_url(conn: Connection) -> sa.URL:
    """The SQLAlchemy URL of a database connection (`database_address`, parsed)."""
    import sqlalchemy as sa

    return sa.make_url(database_address(conn))


def database_address(conn: Connection) -> Address:
    """The SQLAlchemy URL of a database connection; a file database's as its text, which
    its driver alone reads (`Dialect.native`).

    Extras become driver options (`sslmode=require`) only when they are text or numbers
    and not one of Airflow's hook settings; a boolean, a list or an object never reaches
    the driver (libpq takes every option as text).
    """
    options = {
        key: str(value)
        for key, value in conn.extra.items()
        if isinstance(value, str | int | float)
        and not isinstance(value, bool)
        and key not in _HOOK_EXTRAS
    }
    skipped = sorted(set(conn.extra) - set(options))
    if skipped:
        log.debug("connection %r: extras not passed to the driver: %s", conn.conn_id, skipped)
    base, _, driver = conn.conn_type.partition("+")
    dialect = dialects.known(base)
    if dialect is not None and dialect.file_database:
        # The connection URI is already a SQLAlchemy URL: a path, no host.
        return file_url(base, conn.host or conn.schema, options)
    import sqlalchemy as sa

    return sa.URL.create(
        conn.conn_type if driver else dialect.driver if dialect else base,
        username=conn.login,
        password=conn.password,
        host=conn.host,
        port=conn.port,
        database=conn.schema,
        query=options,
    )


# Airflow's `aws` connection extras, as s3fs (fsspec) takes them.
_S3_CLIENT_KEYS = ("endpoint_url", "region_name", "verify")
_S3_RENAMED = {"aws_session_token": "token", "profile_name": "profile"}


def storage_options(conn: Connection) -> dict[str, Any]:
    """fsspec storage options from a connection (Airflow's `aws` conventions for S3).

    Other extras (fsspec's own, such as `anon` or `config_kwargs`) pass through as given.
    """
    extra = dict(conn.extra)
    client = {key: extra.pop(key) for key in _S3_CLIENT_KEYS if key in extra}
    options: dict[str, Any] = {_S3_RENAMED.get(key, key): value for key, value in extra.items()}
    if conn.login:
        options["key"] = conn.login
    if conn.password:
        options["secret"] = conn.password
    if client:
        options["client_kwargs"] = client
    return options
