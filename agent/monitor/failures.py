"""Failed runs explained from their error: which finding the error names, and for each
the facts, the change (when a spec change helps) and what a person must do."""

from __future__ import annotations

import difflib
import re

import sqlalchemy as sa

from agent.monitor.evidence import Evidence, relative
from agent.monitor.findings import ChangeRequest, Diagnosis, where
from agent.orchestrator.profile_view import quote
from connectors.profiling import Profile
from connectors.transforms.names import normalize_name

_ERRORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("staging_full", re.compile(r"ENOSPC|EFBIG|EDQUOT|no space left|file too large|quota", re.I)),
    (
        "auth_failed",
        re.compile(
            r"\b(401|403)\b|unauthori[sz]ed|forbidden|password authentication failed|"
            r"access denied for user|login failed|invalid (api )?(key|token)",
            re.I,
        ),
    ),
    (
        "duplicate_keys",
        re.compile(
            r"duplicate key|unique constraint|duplicate entry|"
            r"cannot affect row a second time",
            re.I,
        ),
    ),
    ("new_column", re.compile(r"is missing from the table", re.I)),
    ("renamed_column", re.compile(r"no column '[^']+'", re.I)),
    (
        "source_unreachable",
        re.compile(
            r"connection refused|connection ?error|timed? ?out|\b5\d\d\b|unreachable|may be down|"
            r"could not connect|"
            r"name or service not known|max retries|circuit|temporarily unavailable",
            re.I,
        ),
    ),
)
"""What a failed run's error says, in order: the first that matches names the finding."""


def _connection_env(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _source_connection(found: Evidence) -> str | None:
    conn = getattr(found.stream.source, "connection", None)
    return conn if isinstance(conn, str) else None


def _auth(found: Evidence, facts: list[str]) -> Diagnosis:
    error = (found.record.error if found.record else "") or ""
    conn = _source_connection(found)
    at_target = conn is None or (found.spec.target is not None and found.spec.target in error)
    conn = found.spec.target if at_target and found.spec.target else conn
    since = found.history.failed[-1].started_at if found.history.failed else None
    when = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
    named = f"connection {conn!r}" if conn else "the connection"
    action = (
        f"renew the credentials of {named} ({_connection_env(conn)}, or the Airflow "
        "connection of that id), then rerun"
        if conn
        else "renew the credentials the source uses, then rerun"
    )
    return Diagnosis(
        "auth_failed",
        f"{where(found)} was refused{when}: {named} no longer authenticates.",
        facts,
        None,
        action,
    )


def _unreachable(found: Evidence, facts: list[str]) -> Diagnosis:
    recovered = next((r for r in found.later if r.status == "ok"), None)
    if recovered is not None:
        facts.append(f"run {recovered.run_id} succeeded afterwards")
        told = f"could not reach its source; it recovered: {recovered.run_id} succeeded after."
        return Diagnosis("source_unreachable", f"{where(found)} {told}", facts, None, None)
    action = "check that the source is up and reachable from the workers, then rerun"
    told = f"{where(found)} could not reach its source (refused, timed out or a server error)."
    return Diagnosis("source_unreachable", told, facts, None, action)


def _staging(found: Evidence, facts: list[str]) -> Diagnosis:
    action = (
        "free space on the staging disk, or point TMPDIR (and, for Airflow, "
        "DAGSMITH_STAGING_URL) at a larger one; then rerun"
    )
    told = f"{where(found)} failed writing its staged data: the disk or quota is full."
    return Diagnosis("staging_full", told, facts, None, action)


def new_column(found: Evidence, facts: list[str]) -> Diagnosis:
    error = found.record.error if found.record else ""
    names = re.findall(r"column '([^']+)' \([^)]*\) is missing from the table", error or "")
    names += [n for c in found.failed_checks if c.check == "schema_drift" for n in _quoted(c.seen)]
    shown = ", ".join(quote(n) for n in dict.fromkeys(names)) or "new columns"
    change = ChangeRequest(
        f"load the new column(s) {shown}: contract new_columns: add",
        {"contract.new_columns": "add"},
    )
    told = f"the source of {where(found)} gained {shown}, which the table lacks."
    return Diagnosis("new_column", told, facts, change)


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']+)'", text)


def _renamed(found: Evidence, facts: list[str]) -> Diagnosis:
    error = (found.record.error if found.record else "") or ""
    gone = re.search(r"no column '([^']+)'", error)
    available = re.findall(r"'([^']+)'", error.split("available columns:", 1)[-1])
    if isinstance(found.profile, Profile):
        available = [normalize_name(c.name, i) for i, c in enumerate(found.profile.columns, 1)]
    used = set(found.stream.transform.types) | set(found.stream.transform.rename.values())
    fresh = [name for name in available if name not in used]
    old = gone[1] if gone else ""
    # One new column is the renamed one; among several, the one most like the old name.
    close = fresh if len(fresh) == 1 else difflib.get_close_matches(old, fresh, n=1, cutoff=0.5)
    if not old or not close:
        return failed(found, facts)
    new = close[0]
    facts.append(f"the source has no column {quote(old)} now; it has {quote(new)}, unused")
    rename = {**found.stream.transform.rename, new: old}
    change = ChangeRequest(f"read {quote(new)} as {quote(old)}", {"transform.rename": rename})
    told = f"column {quote(old)} of {where(found)}'s source seems renamed to {quote(new)}."
    return Diagnosis("renamed_column", told, facts, change)


def _duplicate_error(found: Evidence, facts: list[str]) -> Diagnosis:
    error = (found.record.error if found.record else "") or ""
    # PostgreSQL names the key (`Key (id)=(7)`), SQLite the columns (`failed: orders.id`);
    # MariaDB names only the index (`for key 'PRIMARY'`): then the table's primary key.
    named = re.search(r"Key \(([^)]+)\)=", error) or re.search(
        r"constraint failed: ([\w., ]+)", error
    )
    keys = [k.strip().rsplit(".", 1)[-1] for k in named[1].split(",")] if named else []
    keys = found.stream.load.keys or keys or _primary_key(found)
    return dedupe(found, facts, keys, "failed: rows share the key")


def _primary_key(found: Evidence) -> list[str]:
    """The primary key of the stream's table in the target; empty when it cannot be read."""
    schema, _, table = found.stream.load.table.rpartition(".")
    engine = sa.create_engine(found.target.url, poolclass=sa.NullPool)
    try:
        key = sa.inspect(engine).get_pk_constraint(table, schema=schema or None)
        return list(key.get("constrained_columns") or [])
    except sa.exc.SQLAlchemyError:
        return []
    finally:
        engine.dispose()


def dedupe(found: Evidence, facts: list[str], keys: list[str], what: str) -> Diagnosis:
    told = f"{where(found)} {what} ({', '.join(keys) or 'key unknown'})."
    if not keys:
        return Diagnosis("duplicate_keys", told, facts, None, "find the key the table enforces")
    change = ChangeRequest(
        f"keep one row per {', '.join(keys)} (the last read): transform dedupe",
        {"transform.dedupe": {"keys": list(keys), "keep": "last"}},
    )
    action = "ask the source's owner why rows repeat"
    return Diagnosis("duplicate_keys", told, facts, change, action)


def killed(found: Evidence, facts: list[str]) -> Diagnosis:
    marker = found.marker
    assert marker is not None
    gone = "its process is gone" if marker.alive is False else f"it ran on host {marker.host}"
    facts.append(
        f"run {marker.run_id} started {marker.started_at:%Y-%m-%d %H:%M} UTC on {marker.host} "
        f"(pid {marker.pid}); no record of it, committed or failed; {gone}"
    )
    spec = relative(found.spec_path, found.project_dir)
    command = f"dagsmith run {spec} --stream {marker.stream} --run-id {marker.run_id}"
    told = f"run {marker.run_id} of {where(found)} never finished: it was killed."
    action = f"rerun it; loads are idempotent, so it is safe: {command}"
    return Diagnosis("run_killed", told, facts, None, action)


def failed(found: Evidence, facts: list[str]) -> Diagnosis:
    told = f"{where(found)} failed; the error is not one dagsmith can explain further."
    return Diagnosis("run_failed", told, facts, None, "read the error above, then rerun")


EXPLAIN = {
    "staging_full": _staging,
    "auth_failed": _auth,
    "duplicate_keys": _duplicate_error,
    "new_column": new_column,
    "renamed_column": _renamed,
    "source_unreachable": _unreachable,
    "run_failed": failed,
}
"""How each finding of `finding_of` is explained (and `run_killed` by `killed`)."""


def finding_of(error: str) -> str:
    """The finding a failed run's error names; `run_failed` when none."""
    return next((name for name, rx in _ERRORS if rx.search(error)), "run_failed")
