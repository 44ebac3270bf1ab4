"""The tables `agent.gitflow.changes` walks: which parts of a spec it compares, how it words
a change, and why a change is a risk.

An `Aspect` is one value (the write mode, the schedule), reported as `label old -> new`. An
`Entries` is a mapping (column types, fills, connections used) whose keys are added, removed
or changed. A risk reason is a short clause that follows the sentence in parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agent.dags.describe import describe_filter, schedule_text
from connectors.spec import Filter, Incremental, Pipeline, Range, Retries, Strings
from connectors.spec.base import format_duration
from connectors.spec.models import Alert, Dedupe, EmailAlert
from connectors.spec.protect import action
from connectors.spec.uses import TARGET, connections

_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.I)
NEW_REACH = "a place this pipeline did not reach before"


def shown(value: object) -> str:
    """A value as a reviewer reads it: in backticks, without the password of a URL."""
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value) or "none"
    text = _USERINFO.sub(r"\1", str(value)).replace("`", "'").replace("\n", " ")
    return f"`{text}`"


def _or(default: str) -> Callable[[Any], str]:
    return lambda value: default if value is None else shown(value)


def _always(reason: str) -> Callable[[Any, Any], str | None]:
    return lambda _old, _new: reason


def _never(_old: Any, _new: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Aspect:
    """One value of a spec, reported as `label old -> new` when it differs."""

    label: str
    get: Callable[[Any], Any]
    show: Callable[[Any], str] = shown
    risk: Callable[[Any, Any], str | None] = _never


@dataclass(frozen=True)
class Entries:
    """A mapping of a spec; the sentence templates get `key`, `old` and `new`, shown."""

    get: Callable[[Any], Mapping[str, Any]]
    added: str
    removed: str
    changed: str = ""  # empty: a changed value is not worth a line
    risk_added: str | None = None
    risk_removed: str | None = None
    risk_changed: str | None = None
    show: Callable[[Any], str] = shown


def _retries(retries: Retries) -> str:
    if retries.count == 0:
        return "none"
    every, most = format_duration(retries.delay), format_duration(retries.max_delay)
    doubling = ", doubling" if retries.exponential else ""
    return f"{retries.count} (every {every}{doubling}, at most {most})"


def _retries_risk(old: Retries, new: Retries) -> str | None:
    return "a failed task is no longer retried" if new.count == 0 < old.count else None


_OVERWRITTEN = "destructive: the table is overwritten on every run"
_UNMATCHED = "rows are no longer matched on keys: a rerun or an update duplicates them"
# (old mode, new mode) -> why the switch puts the table's rows at risk.
_MODE_RISKS = {
    ("append", "replace"): _OVERWRITTEN,
    ("upsert", "replace"): _OVERWRITTEN,
    ("upsert", "append"): _UNMATCHED,
    ("replace", "append"): "each run adds the whole extract: rows are duplicated",
}


def _mode_risk(old: str, new: str) -> str | None:
    return _MODE_RISKS.get((old, new))


_CONTRACT_RISKS = {
    "add": "the load alters the table when the source gains a column",
    "ignore": "columns the source gains are not loaded",
    "reject_rows": "rows whose value no longer fits the table go to the rejects",
    "null": "columns the source loses are loaded as NULL",
    "fail": "a change in the source's columns stops the load",
}
"""Why a change of the stream's schema contract is a risk, by its new setting."""


def _contract_risk(_old: str, new: str) -> str | None:
    return _CONTRACT_RISKS[new]


def _keys_risk(old: list[str], new: list[str]) -> str | None:
    # Keys appear or vanish with a switch to or from upsert, which the mode's line explains.
    if old and new:
        return "rows are matched on other columns: existing rows may be duplicated"
    return None


def _incremental(incremental: Incremental | None) -> str:
    if incremental is None:
        return "off"
    parts = [f"cursor {shown(incremental.cursor)}"]
    parts += [f"lag {format_duration(incremental.lag)}"] if incremental.lag else []
    parts += [f"from {shown(incremental.initial)}"] if incremental.initial is not None else []
    parts += [f"sent as {shown(incremental.param)}"] if incremental.param else []
    return ", ".join(parts)


def _incremental_risk(old: Incremental | None, new: Incremental | None) -> str | None:
    if old is None:
        return None
    if new is None:
        return "every run reads the whole source again; in append mode rows are duplicated"
    if old.cursor != new.cursor:
        return "the stored watermark was taken on another column"
    return None


def _filter_risk(old: Filter | None, new: Filter | None) -> str | None:
    """Which rows land changes; those already loaded stay unless the table is replaced."""
    if new is None:
        return "rows the filter left out now load"
    return "other rows load from now on; rows loaded before stay unless the table is replaced"


def _strings(strings: Strings | None) -> str:
    if strings is None:
        return "off"
    parts = ["trim"] if strings.trim else []
    parts += ["empty as null"] if strings.empty_as_null else []
    parts += [part for part in (strings.case, strings.unicode) if part]
    scope = f" of {shown(strings.columns)}" if strings.columns is not None else ""
    return (", ".join(parts) or "nothing") + scope


def _dedupe(dedupe: Dedupe | None) -> str:
    return "off" if dedupe is None else f"on {shown(dedupe.keys)}, keep {dedupe.keep}"


def _max_rejects(value: float | None) -> str:
    if value is None:
        return "no limit"
    return shown(f"{value * 100:g}%" if isinstance(value, float) else value)


def _range(rule: Range) -> str:
    bounds = {"min": rule.min, "max": rule.max, "allowed": rule.allowed}
    return ", ".join(
        f"{name} {shown(value)}" for name, value in bounds.items() if value is not None
    )


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return shown(line if len(line) <= 60 else line[:59] + "…") if line else "none"


def _keyset(items: Iterable[str]) -> dict[str, bool]:
    return dict.fromkeys(items, True)


def _alerts(alerts: list[Alert]) -> dict[str, bool]:
    def name(alert: Alert) -> str:
        if isinstance(alert, EmailAlert):
            return str(alert.email)
        return f"${alert.webhook_env}" if alert.webhook_env else f"connection {alert.webhook_conn}"

    return _keyset(name(alert) for alert in alerts)


def _connections(spec: Pipeline) -> dict[str, str]:
    """Connection id -> what uses it; the target is left to its own aspect."""
    uses = {conn: [u for u in used if u != TARGET] for conn, used in connections(spec).items()}
    return {conn: " and ".join(used) for conn, used in uses.items() if used}


def _hosts(spec: Pipeline) -> dict[str, str]:
    """`scheme://host[:port]` -> what reaches it, from URLs written in the spec."""
    used: dict[str, list[str]] = {}
    for stream in spec.streams:
        urls = [getattr(stream.source, "path", None)]
        urls.append(getattr(getattr(stream.source, "auth", None), "token_url", None))
        for host in {_host(url) for url in urls if url} - {None}:
            used.setdefault(str(host), []).append(f"the source of stream {stream.name}")
    return {host: " and ".join(uses) for host, uses in used.items()}


def _host(url: str) -> str | None:
    """The scheme and host of a URL, without its user or password; None for a local path."""
    parts = urlsplit(url)
    if "://" not in url or parts.scheme == "file" or not parts.hostname:
        return None
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is not a number: the host alone says enough
        port = ""
    return f"{parts.scheme}://{parts.hostname}{port}"


PIPELINE_ASPECTS = (
    Aspect("schedule", lambda p: schedule_text(p.schedule), _or("manual")),
    Aspect("target", lambda p: p.target, _or("embedded DuckDB"), _always("rows land elsewhere")),
    Aspect("retries", lambda p: p.retries, _retries, _retries_risk),
    Aspect("owner", lambda p: p.owner),
    Aspect("tags", lambda p: p.tags),
    Aspect("description", lambda p: p.description, _short),
)
ALERT_ENTRIES = (
    Entries(
        lambda p: _alerts(p.alerts.on_failure),
        added="failure alert to {key} added",
        removed="failure alert to {key} removed",
        risk_removed="a failure may go unnoticed",
    ),
    Entries(
        lambda p: _alerts(p.alerts.on_success),
        added="success alert to {key} added",
        removed="success alert to {key} removed",
        risk_removed="nobody there hears of a successful run any more",
    ),
)
ACCESS_ENTRIES = (
    Entries(
        lambda p: {role: ", ".join(permissions) for role, permissions in p.access.items()},
        added="role {key} may now {new} this DAG",
        removed="role {key} no longer has permissions of its own on this DAG",
        changed="role {key} may {new} this DAG (was {old})",
        risk_added="more people may act on this pipeline",
        risk_changed="what this role may do changed",
        show=str,
    ),
)
REACH_ENTRIES = (
    Entries(
        _connections,
        added="newly uses connection {key} for {new}",
        removed="no longer uses connection {key}",
        risk_added=NEW_REACH,
        show=str,
    ),
    Entries(
        _hosts,
        added="newly reaches host {key} for {new}",
        removed="no longer reaches host {key}",
        risk_added=NEW_REACH,
        show=str,
    ),
)
STREAM_ASPECTS = (
    Aspect("load table", lambda s: s.load.table),
    Aspect("write mode", lambda s: s.load.mode, risk=_mode_risk),
    Aspect("keys", lambda s: s.load.keys, risk=_keys_risk),
    Aspect(
        "empty extract may empty the table",
        lambda s: s.load.allow_empty_replace,
        risk=lambda _old, new: "an empty extract now wipes the table" if new else None,
    ),
    Aspect("incremental", lambda s: s.incremental, _incremental, _incremental_risk),
    Aspect(
        "column name normalising",
        lambda s: s.transform.normalize_names,
        risk=_always("the target's column names change"),
    ),
    Aspect("string cleaning", lambda s: s.transform.strings, _strings),
    Aspect(
        "row filter",
        lambda s: s.transform.filter,
        lambda rule: "none" if rule is None else shown(describe_filter(rule)),
        risk=_filter_risk,
    ),
    Aspect("dedupe", lambda s: s.transform.dedupe, _dedupe),
    Aspect("max rejects", lambda s: s.transform.max_rejects, _max_rejects),
    Aspect("new columns", lambda s: s.contract.new_columns, risk=_contract_risk),
    Aspect("type changes", lambda s: s.contract.type_change, risk=_contract_risk),
    Aspect("missing columns", lambda s: s.contract.missing_columns, risk=_contract_risk),
    Aspect("batch rows", lambda s: s.batch_rows),
)
STREAM_ENTRIES = (
    Entries(
        lambda s: s.transform.types,
        added="column {key} typed {new}",
        removed="column {key} no longer typed (was {old}; it keeps the source's type)",
        changed="column {key} type {old} -> {new}",
        risk_changed="the target column may need a migration",
    ),
    Entries(
        lambda s: s.transform.rename,
        added="renames {key} to {new}",
        removed="no longer renames {key} to {old}",
        changed="renames {key} to {new} instead of {old}",
        risk_changed="the old column is no longer filled",
    ),
    Entries(
        lambda s: _keyset(s.transform.drop),
        added="drops column {key}",
        removed="no longer drops column {key}",
        risk_added="its data no longer reaches the table",
    ),
    Entries(
        lambda s: _keyset(s.transform.required),
        added="column {key} required (rows without it are rejected)",
        removed="column {key} no longer required",
    ),
    Entries(
        lambda s: s.transform.ranges,
        added="checks column {key}: {new}",
        removed="no longer checks column {key} ({old})",
        changed="check of column {key}: {old} -> {new}",
        show=_range,
    ),
    Entries(
        lambda s: s.transform.fill,
        added="fills nulls of column {key} with {new}",
        removed="no longer fills nulls of column {key} (with {old})",
        changed="fill of column {key} {old} -> {new}",
    ),
    Entries(
        lambda s: _keyset(step.udf for step in s.transform.steps),
        added="runs user function {key}",
        removed="no longer runs user function {key}",
    ),
    Entries(
        lambda s: {column: action(rule) for column, rule in s.transform.protect.items()},
        added="protects column {key}: {new}",
        removed="no longer protects column {key} (was {old})",
        changed="protection of column {key} {old} -> {new}",
        risk_removed="its clear values reach the table and the rejects",
        risk_changed="the loaded values change (a hash no longer matches older rows)",
    ),
)
