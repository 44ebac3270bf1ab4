"""PII protection in the spec: how a column's values are hidden before anything keeps them.

`transform.protect` maps a column (its name after rename and normalize_names) to what is
done to its values before they reach the target, the rejects, the logs or a lineage event:
`hash`, `mask`, `redact` or `drop`, or the long forms `{hash: {key: conn}}` and
`{mask: {keep_last: 4}}`. Docs: docs/protect.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from connectors.spec.base import ConnectionId, SpecModel

if TYPE_CHECKING:
    from connectors.spec.models import Stream, Transform

Action = Literal["hash", "mask", "redact", "drop"]
_DONE = {"hash": "hashed", "mask": "masked", "redact": "redacted", "drop": "dropped"}
DEFAULT_KEY = "pii_key"
"""The connection whose password is the HMAC key when a `hash` names none."""


class HashOptions(SpecModel):
    """Keyed HMAC-SHA256 of the value's text, as 64 hex digits."""

    key: ConnectionId = Field(
        default=DEFAULT_KEY,
        description=(
            "The connection whose password is the secret HMAC key (at least 16 characters), "
            'e.g. AIRFLOW_CONN_PII_KEY=\'{"conn_type": "generic", "password": "..."}\'. '
            "The same key gives the same hash in every run and pipeline."
        ),
    )


class MaskOptions(SpecModel):
    """Show only a little of each value; the rest becomes `***`."""

    keep_last: int = Field(
        default=4,
        ge=0,
        le=16,
        description=(
            "Letters or digits kept at the end, spaces and punctuation not counted "
            "('+47 412 34 567' -> '***4567'); a value with fewer than twice this many shows "
            "nothing ('***')."
        ),
    )
    email: bool = Field(
        default=True,
        description="A value that looks like an e-mail keeps its first character and its "
        "domain instead: 'a***@example.com'.",
    )


class Hash(SpecModel):
    """`{hash: {key: conn}}`: hash with the key of another connection."""

    hash: HashOptions = Field(default_factory=HashOptions)


class Mask(SpecModel):
    """`{mask: {keep_last: 2}}`: mask with other options."""

    mask: MaskOptions = Field(default_factory=MaskOptions)


def _tag(value: Any) -> str:
    """Pick the form by its shape, so an error speaks of one form, not of three."""
    if isinstance(value, str):
        return "action"
    if isinstance(value, Hash) or (isinstance(value, dict) and "hash" in value):
        return "hash"
    return "mask"


ProtectRule = Annotated[
    Annotated[Action, Tag("action")] | Annotated[Hash, Tag("hash")] | Annotated[Mask, Tag("mask")],
    Discriminator(_tag),
]
"""What `protect` does to one column: an action's name, or its long form with options."""

PROTECT_DESCRIPTION = (
    "Personal data: column (after rename) -> hash | mask | redact | drop, applied after the "
    "checks and before steps, to the loaded rows and to rejected rows' raw values alike. "
    "hash: keyed HMAC-SHA256 (hex) with the password of the connection pii_key as key "
    "({hash: {key: other_conn}} to use another); mask: '***4567', e-mails 'a***@example.com' "
    "({mask: {keep_last: 2}}); redact: null; drop: remove the column. Example: "
    "{email: hash, phone: mask, ssn: redact, notes: drop}."
)


def action(rule: ProtectRule) -> Action:
    """The action a rule takes, whichever form it is written in."""
    if isinstance(rule, Hash):
        return "hash"
    if isinstance(rule, Mask):
        return "mask"
    return rule


def hash_key(rule: ProtectRule) -> str | None:
    """The connection id of a hash rule's key; None for other actions."""
    if isinstance(rule, Hash):
        return rule.hash.key
    return DEFAULT_KEY if rule == "hash" else None


def mask_options(rule: ProtectRule) -> MaskOptions:
    """A mask rule's options (the defaults for the short form)."""
    return rule.mask if isinstance(rule, Mask) else MaskOptions()


def protect_problems(transform: Transform) -> list[str]:
    """Why a transform's `protect` cannot hold with its other rules ([] when it can)."""
    problems = []
    for column, rule in transform.protect.items():
        taken = action(rule)
        declared = transform.types.get(column)
        if taken in ("hash", "mask") and declared is not None and declared.name != "string":
            problems.append(
                f"protect {column}: {taken} turns values into text, yet types declares "
                f"{column} as {declared}: declare it as string or leave its type out"
            )
        if taken == "drop" and declared is not None:
            problems.append(f"protect {column}: drop removes the column: remove its type")
        if taken in ("redact", "drop") and column in transform.required:
            problems.append(
                f"protect {column}: {taken} leaves no value to load (the table could not hold "
                f"it NOT NULL): remove {column} from required"
            )
    dedupe = transform.dedupe.keys if transform.dedupe else []
    problems += _keys_problems(transform, dedupe, "dedupe key")
    return problems


def stream_problems(stream: Stream) -> list[str]:
    """Why a stream's load keys or cursor cannot be protected columns ([] when they are not)."""
    transform = stream.transform
    problems = _keys_problems(transform, stream.load.keys, "load key")
    cursor = stream.incremental.cursor if stream.incremental else None
    if cursor is not None and cursor in transform.protect:
        problems.append(f"protect {cursor}: the incremental cursor cannot be protected")
    return problems


def _keys_problems(transform: Transform, keys: list[str], what: str) -> list[str]:
    """Only a hashed column can be a key: the same value always gives the same hash."""
    return [
        f"protect {key}: a {what} can be hashed (the same value, the same hash), not "
        f"{_DONE[action(transform.protect[key])]}"
        for key in keys
        if key in transform.protect and action(transform.protect[key]) != "hash"
    ]
