"""Personal data in a build: the protection a spec's description proposes, and the values
the tools withhold from the model.

Protection is proposed, never switched on behind the user's back: every spec the tools
check gets, in its description, the `protect` rules `dagsmith init` would propose for the
columns the profile flags and the stream loads in the clear (`connectors.profiling.draft`),
so the DAG check, the dry run and the saved file all see the same bytes. The user asks for
the rules ("protect personal data", "hash the email column") to have them written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from agent.dags.describe import source_label
from connectors.profiling import Profile, draft
from connectors.spec import Pipeline, Stream
from connectors.spec.sources import FileSource, SourceSpec

SWITCH = "or ask for it: 'protect personal data'"
"""How a build's description says the rules get written."""
DESCRIPTION_CHARS = 2000
"""The longest description a spec holds."""

Profiles = Mapping[str, Profile]
"""Profiles by the source they read (`source_key`)."""


def source_key(source: SourceSpec, project_dir: Path) -> str:
    """A source as one string, whoever wrote its spec: its kind and label, a local file's
    path made absolute."""
    if isinstance(source, FileSource) and "://" not in source.path:
        source = source.model_copy(update={"path": str((project_dir / source.path).resolve())})
    return f"{source.kind}: {source_label(source)}"


def proposals(
    pipeline: Pipeline, profiles: Profiles, project_dir: Path
) -> dict[str, dict[str, str]]:
    """Per stream, the rules proposed for the personal data it loads in the clear."""
    proposed = {}
    for stream in pipeline.streams:
        found = _profile_of(stream, profiles, project_dir)
        if found is not None and (rules := draft.stream_proposals(stream, found)):
            proposed[stream.name] = rules
    return proposed


def proposing(pipeline: Pipeline, proposed: Mapping[str, Mapping[str, str]]) -> Pipeline:
    """The spec whose description ends with the proposals (an earlier note replaced: a spec
    the model copied from an earlier answer may hold one)."""
    several = len(pipeline.streams) > 1
    notes = [
        draft.protection_note(rules, False, SWITCH, f" in stream {name}" if several else "")
        for name, rules in proposed.items()
    ]
    said = pipeline.description.partition(f". {draft.UNPROTECTED}")[0]
    if notes:
        note = "".join(notes)[:DESCRIPTION_CHARS]
        said = said.rstrip(". ")[: DESCRIPTION_CHARS - len(note)]
        said = said + note if said else note.removeprefix(". ")
    return pipeline.model_copy(update={"description": said})


def unprotected(proposed: Mapping[str, Mapping[str, str]]) -> str:
    """What to tell the user of a saved spec's proposals ("" when there are none)."""
    columns = [column for rules in proposed.values() for column in rules]
    if not columns:
        return ""
    return (
        f"likely personal data loaded unprotected: {', '.join(columns)} (the spec's "
        "description has the rules to add; say 'protect personal data' to have them written)"
    )


def withheld(
    pipeline: Pipeline, profiles: Profiles, project_dir: Path, requested: Collection[str]
) -> dict[str, set[str]]:
    """Per table, the columns (lower case) whose loaded values the model is not shown: those
    the request asks to protect and those the profile flags, where the stream leaves them
    clear (a protected value is shown as protected)."""
    hidden = {}
    for stream in pipeline.streams:
        found = _profile_of(stream, profiles, project_dir)
        flagged = {c.lower() for c in draft.clear_pii(stream, found)} if found else set()
        protected = {c.lower() for c in stream.transform.protect}
        hidden[stream.load.table] = (flagged | set(requested)) - protected
    return hidden


def _profile_of(stream: Stream, profiles: Profiles, project_dir: Path) -> Profile | None:
    return profiles.get(source_key(stream.source, project_dir))
