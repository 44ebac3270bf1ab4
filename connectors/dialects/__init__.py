"""Databases: one module per database, one object holding what dagsmith knows of it.

`dialect_for(url)` gives the dialect of a URL, an engine, a connection or a name.
PostgreSQL, MySQL/MariaDB, SQLite and DuckDB have modules here; any other database
SQLAlchemy has a dialect for gets common-ground facts (`generic`); a name neither knows
is an error that lists the known ones. docs/dialects.md says how to add a database.
The package imports without SQLAlchemy: a URL's text names its dialect by its scheme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.dialects import generic
from connectors.dialects.base import Dialect
from connectors.dialects.duckdb import DUCKDB
from connectors.dialects.mysql import MYSQL
from connectors.dialects.postgres import POSTGRES
from connectors.dialects.sqlite import SQLITE
from connectors.errors import SpecError

DIALECTS: tuple[Dialect, ...] = (POSTGRES, MYSQL, SQLITE, DUCKDB)
_BY_SCHEME = {s: dialect for dialect in DIALECTS for s in (dialect.name, *dialect.schemes)}
AIRFLOW_TYPES = {k: v for dialect in DIALECTS for k, v in dialect.airflow_types.items()}
"""URL scheme -> Airflow's connection type, where they differ (`postgresql` -> `postgres`)."""

if TYPE_CHECKING:
    import sqlalchemy as sa

    Named = sa.URL | sa.Engine | sa.Connection | str


def known(named: Named) -> Dialect | None:
    """The dialect with a module of its own for a URL, engine, connection or scheme; else None."""
    return _BY_SCHEME.get(_scheme(named))


def dialect_for(named: Named) -> Dialect:
    """The dialect of a URL (`postgresql+psycopg2://...`), engine, connection or name.

    Raises:
        SpecError: Neither dagsmith nor SQLAlchemy knows the database.
    """
    scheme = _scheme(named)
    if found := _BY_SCHEME.get(scheme):
        return found
    import sqlalchemy as sa

    try:
        sa.dialects.registry.load(scheme)
    except sa.exc.NoSuchModuleError:
        names = ", ".join(sorted(_BY_SCHEME))
        raise SpecError(
            f"unknown database {scheme!r}",
            hint=f"use one of {names}, or a database SQLAlchemy has a dialect for",
        ) from None
    return generic.other(scheme)


def is_database_scheme(scheme: str) -> bool:
    """Whether a URL scheme names a database `kind: sql` reads (`postgresql+psycopg2`)."""
    base = scheme.lower().split("+")[0]
    found = _BY_SCHEME.get(base)
    return found.sql_source if found else base in generic.SCHEMES


def raised_by(error: BaseException | None) -> Dialect | None:
    """The dialect whose driver raised a DB-API error, if known."""
    return next((d for d in DIALECTS if d.raised(error)), None)


def is_transient_code(code: str | int) -> bool:
    """Whether a driver's error code (SQLSTATE or MySQL number) is transient where it comes from.

    The kinds of codes do not overlap (SQLSTATEs are text, MySQL's numbers are ints), so
    the code alone says which database's table to read.
    """
    return any(dialect.is_transient(code) for dialect in DIALECTS)


def is_conflict_code(code: str | int | None) -> bool:
    """A deadlock or serialization failure on the database the code comes from."""
    return code is not None and any(code in dialect.conflict_codes for dialect in DIALECTS)


def _scheme(named: Named) -> str:
    if isinstance(named, str):
        scheme = urlsplit(named).scheme if "://" in named else named
        return scheme.lower().split("+")[0]
    import sqlalchemy as sa  # loaded already by whoever made the URL, engine or connection

    if isinstance(named, sa.Engine | sa.Connection):
        return named.dialect.name
    return named.get_backend_name()


__all__ = [
    "AIRFLOW_TYPES",
    "DIALECTS",
    "Dialect",
    "dialect_for",
    "is_conflict_code",
    "is_database_scheme",
    "is_transient_code",
    "known",
    "raised_by",
]
