"""Connections by id, resolved the way Airflow does, so one setting works in and out of it.

Order: the Airflow connection (inside an Airflow worker), then the environment variable
`AIRFLOW_CONN_<ID>`, then the project's `.env`. A spec with no target uses an embedded
DuckDB file in the project. Values are Airflow connection URIs
(`postgresql://user:pass@host:5432/db`) or Airflow's JSON form; any SQLAlchemy URL works too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa
from dotenv import dotenv_values

from connectors.errors import ConnectionNotFound, SpecError

EMBEDDED_PATH = Path(".dagsmith") / "warehouse.duckdb"
_FILE_DATABASES = {"sqlite", "duckdb"}
"""Schemes whose connection URI is already a SQLAlchemy URL (a path, no host)."""

_DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sqlite": "sqlite",
}


@dataclass(frozen=True)
class Target:
    """A resolved database: `url` carries the secret, `label` never does."""

    url: sa.URL
    conn_id: str | None

    @property
    def label(self) -> str:
        """The URL with its password masked, for logs and summaries."""
        return self.url.render_as_string(hide_password=True)

    @property
    def embedded(self) -> bool:
        """Whether this is the project's embedded DuckDB file (no target configured)."""
        return self.conn_id is None

    @property
    def browse(self) -> str | None:
        """How to look at the rows of the embedded file; None for a configured target."""
        from connectors.loaders.duckdb import browse_hint  # the driver loads only when asked

        return browse_hint(str(self.url.database)) if self.embedded else None


def env_var(conn_id: str) -> str:
    """The environment variable Airflow reads for a connection id."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def resolve_target(conn_id: str | None, project_dir: Path) -> Target:
    """The database behind a spec's `target`; the embedded DuckDB file when it is null."""
    if conn_id is None:
        path = (project_dir / EMBEDDED_PATH).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return Target(sa.URL.create("duckdb", database=str(path)), None)
    return Target(to_sqlalchemy_url(lookup(conn_id, project_dir), conn_id), conn_id)


def lookup(conn_id: str, project_dir: Path) -> str:
    """The raw connection value (URI or JSON) for an id; ConnectionNotFound says where to set it."""
    from_airflow = _from_airflow(conn_id)
    if from_airflow is not None:
        return from_airflow
    name = env_var(conn_id)
    if value := os.environ.get(name):
        return value
    dotenv = project_dir / ".env"
    if dotenv.is_file() and (value := dotenv_values(dotenv).get(name)):
        return value
    raise ConnectionNotFound(
        f"connection {conn_id!r} is not configured",
        hint=f"set {name}=postgresql://user:password@host:5432/db in the environment or in "
        f"{dotenv} (or create the connection in Airflow)",
    )


def _from_airflow(conn_id: str) -> str | None:
    """The connection from Airflow's own store, when running inside an Airflow task.

    None when not in a task, or when Airflow has no such connection: the environment
    and `.env` are asked next, as outside Airflow.
    """
    if "AIRFLOW_CTX_DAG_ID" not in os.environ:
        return None
    from airflow.sdk import BaseHook  # only inside a worker: Airflow is installed there
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        uri: str = BaseHook.get_connection(conn_id).get_uri()
    except AirflowNotFoundException:
        return None
    return uri


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


def get_connection(conn_id: str, project_dir: Path) -> Connection:
    """Look up and parse a connection (URI or JSON form)."""
    return parse_connection(conn_id, lookup(conn_id, project_dir))


def parse_connection(conn_id: str, value: str) -> Connection:
    """Parse Airflow's URI form (`type://login:password@host:port/schema?extra=...`) or JSON."""
    value = value.strip()
    try:
        if value.startswith("{"):
            data = json.loads(value)
            return Connection(
                conn_id,
                str(data.get("conn_type", "")),
                data.get("host"),
                int(data["port"]) if data.get("port") else None,
                data.get("login"),
                data.get("password"),
                data.get("schema"),
                dict(data.get("extra") or {}),
            )
        parts = urlsplit(value)
        return Connection(
            conn_id,
            parts.scheme,
            unquote(parts.hostname) if parts.hostname else None,
            parts.port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            unquote(parts.path.lstrip("/")) or None,
            dict(parse_qsl(parts.query)),
        )
    except (ValueError, TypeError, KeyError):
        # The value holds a password: say where it came from, never what it is.
        raise SpecError(
            f"connection {conn_id!r} ({env_var(conn_id)}) is not a valid connection URI or JSON",
            hint="use e.g. postgresql://user:password@host:5432/db",
        ) from None


def to_sqlalchemy_url(value: str, conn_id: str) -> sa.URL:
    """Turn an Airflow connection URI or JSON into a SQLAlchemy URL."""
    conn = parse_connection(conn_id, value)
    base, _, driver = conn.conn_type.partition("+")
    if base in _FILE_DATABASES:
        # sqlite:////abs/path.db keeps its leading slash; Airflow's form is the same.
        return (
            sa.make_url(value)
            if not value.startswith("{")
            else sa.URL.create(base, database=conn.host or conn.schema)
        )
    return sa.URL.create(
        conn.conn_type if driver else _DRIVERS.get(base, base),
        username=conn.login,
        password=conn.password,
        host=conn.host,
        port=conn.port,
        database=conn.schema,
        query={k: str(v) for k, v in conn.extra.items()},
    )


_S3_CLIENT_KEYS = ("endpoint_url", "region_name")


def storage_options(conn: Connection) -> dict[str, Any]:
    """fsspec storage options from a connection (Airflow's `aws` conventions for S3)."""
    extra = dict(conn.extra)
    client = {key: extra.pop(key) for key in _S3_CLIENT_KEYS if key in extra}
    options: dict[str, Any] = {**extra}
    if conn.login:
        options["key"] = conn.login
    if conn.password:
        options["secret"] = conn.password
    if client:
        options["client_kwargs"] = client
    return options
