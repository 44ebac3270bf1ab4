"""Which database errors pass on their own, for sources and loaders alike.

A driver error is read once, here, into a `Diagnosis`: transient (a retry may succeed:
connection lost, deadlock, serialization failure, too many connections) or permanent
(unknown database, authentication, missing table, permission denied, bad data), with
what to do about it. Drivers report connection-time failures without a code (libpq
gives no SQLSTATE before a session exists), so the server's own words are matched too.
Which codes are transient is each dialect's to say (`connectors.dialects`).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from connectors import dialects
from connectors.errors import DagsmithError, LoadError, TargetUnavailable

_TRANSIENT_TEXT = (
    "connection refused",
    "timeout expired",
    "timed out",
    "database is locked",
    "database table is locked",
    "server closed the connection",
    "could not connect",
    "terminating connection",
    "conflict with recovery",
    "the database system is starting up",
    "the database system is shutting down",
    "too many clients",
    "too many connections",
)

_PERMANENT: tuple[tuple[tuple[str | int, ...], tuple[str, ...], str], ...] = (
    (
        ("3D000", 1049),
        ('database "', "unknown database", "unable to open database file"),
        "the database does not exist: check the connection's database name (or file path)",
    ),
    (
        ("28P01", "28000", 1045, 1698),
        ("password authentication failed", "no pg_hba.conf entry", 'role "', "access denied"),
        "authentication failed: check the connection's user and password",
    ),
    (
        ("42501", 1044, 1142, 1143, 1227),
        ("permission denied", "command denied", "readonly database"),
        "permission denied: grant the connection's user the rights listed in docs/deploy.md",
    ),
    (
        ("42P01", "3F000", 1146),
        ("no such table", "does not exist"),
        "the table (or schema) does not exist: check its name (capitals are case-sensitive)",
    ),
)
NOT_RETRIED = "retrying cannot fix this: the run fails without a retry"


@dataclass(frozen=True)
class Diagnosis:
    """What a database error means: whether a retry may help, and what to do."""

    transient: bool
    hint: str | None
    """What to do; None for a permanent error this table knows nothing more about."""


_TRANSIENT = Diagnosis(True, "a transient condition (unreachable, busy or a lock): retry later")


def diagnose(code: str | int | None, text: str, *, lost: bool = False) -> Diagnosis:
    """Read a driver error's SQLSTATE or MySQL number and its message.

    Args:
        code: PostgreSQL's SQLSTATE (str), MySQL/MariaDB's error number (int), or None.
        text: The error's message, as the server or driver wrote it.
        lost: The connection failed or was lost (an OperationalError without a code,
            SQLAlchemy's `connection_invalidated`): transient unless the words say otherwise.
    """
    if code is not None:
        return _by_code(code, lost)
    lowered = text.lower()
    if any(marker in lowered for marker in _TRANSIENT_TEXT):
        return _TRANSIENT
    for _, words, hint in _PERMANENT:
        if any(w in lowered for w in words):
            return _permanent(hint)
    return _TRANSIENT if lost else Diagnosis(False, None)


def as_error(where: str, text: str, code: str | int | None, *, lost: bool) -> DagsmithError:
    """A driver error, diagnosed, as TargetUnavailable (transient) or LoadError (permanent);
    `where` says what failed ("loading orders at sqlite:///x.db")."""
    diagnosis = diagnose(code, text, lost=lost)
    if diagnosis.transient:
        return TargetUnavailable(f"{where} failed: {text}", hint=diagnosis.hint, code=code)
    hint = diagnosis.hint or f"check the rows and the table's columns; {NOT_RETRIED}"
    return LoadError(f"{where} failed: {text}", hint=hint, code=code)


def _by_code(code: str | int, lost: bool) -> Diagnosis:
    if dialects.is_transient_code(code):
        return _TRANSIENT
    for codes, _, hint in _PERMANENT:
        if code in codes:
            return _permanent(hint)
    return _TRANSIENT if lost else Diagnosis(False, None)


def _permanent(hint: str) -> Diagnosis:
    return Diagnosis(False, f"{hint}; {NOT_RETRIED}")


CONFLICT_RETRIES = 4
"""Attempts of a step (a merge, a whole stream) that meets a deadlock or serialization failure."""


def is_conflict(code: str | int | None) -> bool:
    """A deadlock or serialization failure: the statement may simply be run again."""
    return dialects.is_conflict_code(code)


def conflict_pause(attempt: int) -> None:
    """Wait before attempt `attempt + 1`: jittered, so two writers do not meet again."""
    time.sleep(random.uniform(0.1, 0.5) * 2**attempt)  # noqa: S311 (jitter, not a secret)


def driver_code(orig: BaseException | None) -> str | int | None:
    """A DB-API error's MySQL error number or SQLSTATE (psycopg2, ADBC); None otherwise.

    MySQL's number is the precise one (its SQLSTATEs are coarse: 42000 for most). SQLite's
    first argument is its message, not a code: only an int counts as a number.
    """
    first = orig.args[0] if orig is not None and orig.args else None
    if isinstance(first, int):
        return first
    state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return str(state) if state else None
