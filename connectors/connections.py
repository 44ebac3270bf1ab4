"""Connections by id, resolved the way Airflow does, so one setting works in and out of it.

Order: the Airflow connection (inside an Airflow worker), then the environment variable
`AIRFLOW_CONN_<ID>`, then the project's `.env`. A spec with no target uses an embedded
SQLite file in the project. Values are Airflow connection URIs
(`postgresql://user:pass@host:5432/db`) or Airflow's JSON form; any SQLAlchemy URL works too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dotenv import dotenv_values

from connectors.errors import ConnectionNotFound, SpecError

EMBEDDED_PATH = Path(".dagsmith") / "warehouse.db"

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
        """Whether this is the project's embedded SQLite file (no target configured)."""
        return self.conn_id is None


def env_var(conn_id: str) -> str:
    """The environment variable Airflow reads for a connection id."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def resolve_target(conn_id: str | None, project_dir: Path) -> Target:
    """The database behind a spec's `target`; the embedded SQLite file when it is null."""
    if conn_id is None:
        path = (project_dir / EMBEDDED_PATH).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return Target(sa.URL.create("sqlite", database=str(path)), None)
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
    """The connection from Airflow's own store, when running inside an Airflow task."""
    if "AIRFLOW_CTX_DAG_ID" not in os.environ:
        return None
    from airflow.sdk import BaseHook  # only inside a worker: Airflow is installed there

    uri: str = BaseHook.get_connection(conn_id).get_uri()
    return uri


def to_sqlalchemy_url(value: str, conn_id: str) -> sa.URL:
    """Turn an Airflow connection URI or JSON into a SQLAlchemy URL."""
    value = value.strip()
    try:
        url = _from_json(json.loads(value)) if value.startswith("{") else sa.make_url(value)
    except (ValueError, sa.exc.ArgumentError) as exc:
        # The value may hold a password: say where it came from, never what it is.
        raise SpecError(
            f"connection {conn_id!r} ({env_var(conn_id)}) is not a valid connection URI or JSON",
            hint="use e.g. postgresql://user:password@host:5432/db",
        ) from exc.__cause__
    base, _, driver = url.drivername.partition("+")
    if not driver and base in _DRIVERS:
        url = url.set(drivername=_DRIVERS[base])
    return url


def _from_json(data: dict[str, Any]) -> sa.URL:
    conn_type = str(data.get("conn_type", ""))
    return sa.URL.create(
        _DRIVERS.get(conn_type, conn_type),
        username=data.get("login"),
        password=data.get("password"),
        host=data.get("host"),
        port=data.get("port"),
        database=data.get("schema"),
        query={k: str(v) for k, v in (data.get("extra") or {}).items()},
    )
