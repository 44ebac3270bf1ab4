"""A pipeline spec drafted from a profile: what `dagsmith init` writes.

The draft is validated as a `Pipeline` before it is returned, so what is written runs as
written. Column names are those the transform will give (snake_case), types are the
inferred ones, and keys, mode and cursor follow the profile's candidates:

- a candidate key (an id-named one first) makes the stream an upsert on it, else append;
- required columns are the key's, plus, on a fully read source, every column without
  nulls (a sample cannot promise that);
- the incremental cursor is, for an upsert, a modification time (`updated_at`) or none, and
  for an append the first candidate cursor (`keys.cursor_for`); the description says which
  and why (`cursor_note`);
- a column whose text reads two ways (`03/05/2024`: day or month first) takes the reading
  `order` names; without one it stays text, and the description says so;
- columns the profile flags as personal data get a proposed `protect` rule (`proposals`;
  a required column is hashed, not redacted, and hashed or masked columns are typed
  `string`, so the line holds as pasted): off by default, the description lists them with
  the line to add; `protect=True` writes them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from connectors import kinds
from connectors.errors import DagsmithError, SpecError
from connectors.profiling import keys, quality
from connectors.profiling.columns import NULL_TOKEN
from connectors.profiling.model import ColumnProfile, Profile, TypeGuess
from connectors.spec.models import Pipeline, Stream
from connectors.transforms.names import normalize_name, plan_layout

_MASKED = ("phone", "mobile", "iban", "card")
_REDACTED = ("name", "address", "street", "birth", "dob")
UNPROTECTED = "Likely personal data"
"""How a description's note on personal data left clear starts (`protection_note`)."""
INIT_SWITCH = "or draft with `dagsmith init --protect`"
NOTE_CHARS = 1000


def pipeline(
    profile: Profile,
    name: str,
    table: str | None = None,
    target: str | None = None,
    *,
    protect: bool = False,
    order: str | None = None,
) -> Pipeline:
    """The pipeline `name`, one stream loading the profiled source into `table` (or `name`);
    with `protect`, the proposed protection of personal data is written too; `order`
    (`day_first`, `month_first`) reads ambiguous dates."""
    names = {c.name: normalize_name(c.name, i) for i, c in enumerate(profile.columns, start=1)}
    likely = quality.likely_key(profile)
    key = [names[column] for column in likely] if likely in profile.keys else []
    follows = kinds.kind_named(profile.source["kind"]).watermarks
    found = keys.cursor_for(profile, upsert=bool(key)) if follows else None
    cursor = names[found] if found is not None else None
    transform = _transform(profile, names, key, order)
    proposed = proposals(profile, names, key, cursor, transform["required"])
    # Hashes and masks are text: typed so, the proposed line holds in the spec as drafted.
    transform["types"].update({c: "string" for c, rule in proposed.items() if rule != "redact"})
    if protect and proposed:
        transform["protect"] = proposed
    stream: dict[str, Any] = {
        "name": name,
        "source": source(profile),
        "transform": transform,
        "load": {"table": table or name, "mode": "upsert" if key else "append", "keys": key},
    }
    if cursor is not None:
        stream["incremental"] = {"cursor": cursor}
    document: dict[str, Any] = {
        "pipeline": name,
        "description": f"Drafted by `dagsmith init` from a profile of {_rows(profile)}"
        + (cursor_note(profile, names, key, cursor) if follows else "")
        + protection_note(proposed, protect)
        + ambiguity_note(profile, order),
        "target": target,
        "streams": [stream],
    }
    try:
        return Pipeline.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SpecError(f"cannot draft pipeline {name!r}: {problems}") from None


def proposals(
    profile: Profile,
    names: Mapping[str, str],
    key: Collection[str],
    cursor: str | None,
    required: Collection[str] = (),
) -> dict[str, str]:
    """A `protect` rule for each column the profile flags as personal data, by output name
    (`names`: source column -> output name; a column it leaves out is not loaded):
    phone, card and IBAN numbers are masked, names, addresses and birth dates redacted,
    the rest (e-mails, ids such as an SSN, IP addresses) hashed, so they still join."""
    rules = {names[c.name]: proposed_rule(c) for c in profile.columns if c.pii and c.name in names}
    return fitted(rules, key, cursor, required)


def fitted(
    rules: Mapping[str, str],
    key: Collection[str],
    cursor: str | None,
    required: Collection[str] = (),
    typed: Collection[str] = (),
) -> dict[str, str]:
    """Proposed rules a stream can hold as it stands: a key can only be hashed (the same
    value, the same hash), a required column keeps a value (hashed, not redacted), a
    column `typed` other than text is redacted rather than hashed or masked (unless it
    must keep a value), and the incremental cursor is left alone."""

    def fit(column: str, rule: str) -> str:
        if column in key or (column in required and rule == "redact"):
            return "hash"
        return "redact" if column in typed and column not in required else rule

    return {column: fit(column, rule) for column, rule in rules.items() if column != cursor}


def clear_pii(stream: Stream, profile: Profile) -> dict[str, ColumnProfile]:
    """The columns a stream loads (by output name) that the profile flags as personal data
    and its `protect` leaves clear, with their profiles; none when its naming rules do not
    fit the profiled columns (the dry run says why)."""
    try:
        layout = plan_layout(stream.transform, [column.name for column in profile.columns])
    except DagsmithError:
        return {}
    loaded = zip(layout.sources, layout.names, strict=True)
    return {
        name: profile.columns[i]
        for i, name in loaded
        if profile.columns[i].pii
        and name not in stream.transform.protect
        and name not in layout.hidden
    }


def stream_proposals(stream: Stream, profile: Profile) -> dict[str, str]:
    """The `protect` rules proposed for a stream's personal data left clear (`clear_pii`),
    as `proposals` makes them for `dagsmith init`."""
    clear = clear_pii(stream, profile)
    cursor = stream.incremental.cursor if stream.incremental else None
    rules = {name: proposed_rule(column) for name, column in clear.items()}
    transform = stream.transform
    keys = [*stream.load.keys, *(transform.dedupe.keys if transform.dedupe else [])]
    typed = [column for column, type_ in transform.types.items() if type_.name != "string"]
    return fitted(rules, keys, cursor, transform.required, typed)


def proposed_rule(column: ColumnProfile) -> str:
    """hash, mask or redact, from the column's pattern hints, else its name."""
    name = column.name.lower()
    if {"email", "ipv4"} & set(column.hints) or any(w in name for w in ("mail", "ip_")):
        return "hash"
    if "phone" in column.hints or any(word in name for word in _MASKED):
        return "mask"
    return "redact" if any(word in name for word in _REDACTED) else "hash"


def protection_note(
    proposed: Mapping[str, str], written: bool, switch: str = INIT_SWITCH, where: str = ""
) -> str:
    """What a description says of personal data: protected as proposed, or how to (`switch`
    says how else to have the rules written; `where` names the stream of several)."""
    if not proposed:
        return ""
    rules = ", ".join(f"{column}: {rule}" for column, rule in proposed.items())
    if written:
        return f". Personal data protected as proposed{where}: protect: {{{rules}}}"
    return (
        f". {UNPROTECTED}{where}, NOT protected: {', '.join(proposed)}; to protect it, add "
        f"transform.protect: {{{rules}}} ({switch})"
    )[:NOTE_CHARS]


def cursor_note(
    profile: Profile, names: Mapping[str, str], key: list[str], cursor: str | None
) -> str:
    """What a description says of the stream's incremental cursor, and why it is that one."""
    if not key:
        return (
            f". Appends rows past the last {cursor} loaded: rows only ever added" if cursor else ""
        )
    if cursor is not None:
        return (
            f". Incremental on {cursor}, the rows' modification time: a changed row is read again"
        )
    growing = [names[c] for c in profile.cursors]
    instead = (
        f"; if rows are only ever added, `incremental: {{cursor: {growing[0]}}}` reads new ones"
        if growing
        else ""
    )
    return (
        ". No incremental cursor: no modification time (updated_at) was found, so each run "
        f"reads the whole source and the upsert on {', '.join(key)} takes every changed row"
        + instead
    )


def _rows(profile: Profile) -> str:
    """How many rows the profile saw, as a description can say it honestly."""
    rows = profile.rows
    if rows.value is None:
        return f"the first {profile.sampled_rows} rows (the source holds more)"
    about = "about " if rows.estimated else ""
    return f"{about}{rows.value} rows ({profile.sampled_rows} sampled)"


def source(profile: Profile, said: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The source block of a spec written from a profile (`dagsmith init`, `build`, `chat`):
    the source as read, with the options found (encoding, delimiter, records path, the
    tokens typed columns hold for null...), under what a request `said` of the same kind
    (its path as written, the options it names); the fields the kind reads off the source
    itself (`SourceKind.found`: an API's paging) stay as found, whatever was said."""
    found = dict(profile.source)
    kind = kinds.kind_named(found["kind"])
    if not profile.format.get("rejected_rows"):
        found.pop("ragged", None)  # profiling reads ragged rows leniently; keep the default
    tokens = _null_tokens(profile)
    if tokens and "null_values" in kind.model.model_fields:
        found["null_values"] = ["", *tokens]
    if said is None:
        return found
    if said.get("kind") != found["kind"]:
        return dict(said)
    written = {**found, **said}
    for key in kind.found:
        if key in found:
            written[key] = found[key]
        else:
            written.pop(key, None)
    return written


def _null_tokens(profile: Profile) -> list[str]:
    """Texts read as null in a typed column (`NA` among numbers): the reader nulls them."""
    typed = [c for c in profile.columns if c.inferred.type != "string"]
    hints = [hint for column in typed for hint in column.hints]
    return sorted({h.removeprefix(NULL_TOKEN) for h in hints if h.startswith(NULL_TOKEN)})


def ambiguity_note(profile: Profile, order: str | None) -> str:
    """What a description says of the columns left as text because they read two ways."""
    left = {c.name: c.inferred.readings for c in profile.columns if _reading(c, order) is None}
    if not left:
        return ""
    shown = "; ".join(f"{name} ({' or '.join(readings)})" for name, readings in left.items())
    return (
        f". Left as text, their values read two ways: {shown}; dates: draft with "
        "`dagsmith init --day-first` or `--month-first`, or write the type with its format"
    )[:NOTE_CHARS]


def _reading(column: ColumnProfile, order: str | None) -> TypeGuess | None:
    """A column's type: ambiguous text's reading that `order` names (None if it names none)."""
    guess = column.inferred
    if not guess.readings:
        return guess
    return guess.readings.get(order) if order else None


def _transform(
    profile: Profile, names: dict[str, str], key: list[str], order: str | None
) -> dict[str, Any]:
    types = {names[c.name]: (_reading(c, order) or c.inferred).written() for c in profile.columns}
    exact = not profile.rows.estimated and profile.rows.value == profile.sampled_rows
    nulled = {f"{NULL_TOKEN}{token}" for token in _null_tokens(profile)}
    complete = [
        names[c.name]
        for c in profile.columns
        if exact and not c.nullable and not nulled.intersection(c.hints)
    ]
    transform: dict[str, Any] = {
        "types": types,
        "required": list(dict.fromkeys([*key, *complete])),
    }
    return transform
