"""A proposed spec change, checked before it is shown: applied to the spec's text, validated
(the pydantic spec), dry-run on the current sample of the stream's source (as `build`'s
dry_run tool runs it), and shown as a unified diff of the spec file. Nothing is written.

Only the fields a diagnosis may touch can be changed: how a source's values are read, the
transform, the contract, the incremental lag and the keys. Where data comes from and goes
to (a path, a URL, a connection, a table, a mode, a function to run) is never changed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from agent.monitor.evidence import Evidence, relative, trial
from agent.monitor.yamledit import set_field
from agent.orchestrator.guardrails import Guard
from connectors.connections import get_connection
from connectors.errors import DagsmithError
from connectors.kinds import kind_of
from connectors.spec import dump_spec, parse_spec

CHANGEABLE = (
    "source.null_values",
    "source.encoding",
    "source.delimiter",
    "source.quote",
    "source.escape",
    "source.skip_rows",
    "source.ragged",
    "transform.",
    "contract.",
    "incremental.lag",
    "incremental.initial",
    "load.keys",
)
"""Fields (or, ending in a dot, groups of fields) of a stream that a change may set."""
NEVER = ("transform.steps",)
"""Fields under a changeable group that still may not be set: code a change would run."""


@dataclass(frozen=True)
class Proposed:
    """A change as it would be made: its diff, and whether it passed validation and a dry run."""

    summary: str
    diff: str
    checked: bool
    spec_path: str
    text: str
    """The whole spec with the change: what `--pr` commits."""
    why: str | None = None
    """Why it is not checked: the validation error or the dry run's failure."""
    trial: str | None = None
    """What the dry run with the change did, in words."""

    def to_dict(self) -> dict[str, Any]:
        """The `change` object of `dagsmith diagnose --json`."""
        return {
            "summary": self.summary,
            "diff": self.diff,
            "checked": self.checked,
            "spec_path": self.spec_path,
        }


def refused(sets: Mapping[str, Any]) -> list[str]:
    """The fields of `sets` that a change may not touch."""
    return [
        name
        for name in sets
        if not any(name == f or (f.endswith(".") and name.startswith(f)) for f in CHANGEABLE)
        or any(name == n or name.startswith(n + ".") for n in NEVER)
    ]


def propose(found: Evidence, summary: str, sets: Mapping[str, Any]) -> Proposed:
    """Apply `sets` (dotted fields of the stream -> values) to the spec's text and check it."""
    path = found.spec_path
    shown = relative(path, found.project_dir)
    old = path.read_text(encoding="utf-8")
    if bad := refused(sets):
        return Proposed(summary, "", False, shown, old, f"may not change {', '.join(bad)}")
    index = [s.name for s in found.spec.streams].index(found.stream.name)
    new = old
    for name, value in sets.items():
        new = set_field(new, ["streams", index, *name.split(".")], value)
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{shown}", f"b/{shown}"
        )
    )
    if new == old:
        return Proposed(summary, diff, False, shown, new, "the spec already says so")
    try:
        spec = parse_spec(new, shown)
        guard(found).check_spec(spec)
        tried = trial(spec, path, found.stream.name, found.project_dir)
    except DagsmithError as exc:
        return Proposed(summary, diff, False, shown, new, str(exc))
    (result,) = tried.summary["streams"]
    said = (
        f"dry run on the current sample: read {result['rows_read']}, rejected "
        f"{result['rows_rejected']}, loaded {result['rows_loaded']}"
    )
    if failed := tried.failures():
        return Proposed(
            summary, diff, False, shown, new, f"{said}; failed: {failed[result['stream']]}"
        )
    return Proposed(summary, diff, True, shown, new, None, said)


def guard(found: Evidence) -> Guard:
    """`build`'s guardrails with the spec as it is for the user's words: a changed spec may
    reach only the files, URLs, connections and hosts the current one reaches."""
    named = Guard.from_request(dump_spec(found.spec), found.project_dir)
    hosts = set(named.hosts)
    for stream in found.spec.streams:
        for conn_id in kind_of(stream.source).reaches(stream.source).hosts_of:
            try:
                hosts.add((get_connection(conn_id, found.project_dir).host or "").lower())
            except DagsmithError:
                continue  # not configured here: the guard refuses a source that needs it
    return replace(named, hosts=frozenset(hosts))
