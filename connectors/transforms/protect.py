"""PII protection at run time: `transform.protect` applied to batches and to rejected rows.

One `Protector` per stream run serves the transform (its output batches) and the stream's
`Rejects` (every raw row, whoever rejects it), so no path keeps a clear value:

- `hash`: HMAC-SHA256 of the value's text, keyed by the password of a connection, as
  64 hex digits. One pass per column in Python (`hmac.digest`, C speed), over the
  column's distinct values only (Arrow's dictionary encoding).
- `mask`: vectorised with Arrow's RE2 kernels: `a***@example.com`, `***4567` (the last
  letters or digits), `***`.
- `redact`: nulls of the column's type. `drop`: the column goes.

Keys are read once, when the protector is built; a key is registered with the process's
masker, and never appears in a message.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.connections import env_var, get_connection
from connectors.errors import ConnectionNotFound, KeyNotConfigured, TransformError
from connectors.masking import register
from connectors.spec.models import Transform
from connectors.spec.protect import Action, MaskOptions, action, hash_key, mask_options
from connectors.transforms.arrow import pc
from connectors.transforms.names import normalize_name

MIN_KEY_CHARS = 16
"""A shorter key could be guessed; a hash is then as good as the clear value."""
HIDDEN = "***"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@dataclass(frozen=True)
class Protector:
    """A stream's protection rules with their keys, by output column name."""

    spec: Transform
    keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    """HMAC keys by connection id."""

    @property
    def hides(self) -> bool:
        """Whether any column is protected: a reader's message then quotes no row."""
        return bool(self.spec.protect)

    @property
    def actions(self) -> dict[str, Action]:
        """What is done to each protected column."""
        return {column: action(rule) for column, rule in self.spec.protect.items()}

    def check_names(self, source_names: list[str]) -> None:
        """Raise a TransformError when `protect` names a column the source does not have."""
        names = [self._target_name(name, i) for i, name in enumerate(source_names, start=1)]
        if unknown := [column for column in self.spec.protect if column not in names]:
            raise TransformError(
                f"protect: no column {', '.join(map(repr, unknown))}; "
                f"available columns: {', '.join(map(repr, names))}",
                hint="protect names columns as rename and normalize_names leave them",
            )

    def summary(self) -> str:
        """What is done to which column, for the run's log (no value, no key)."""
        return ", ".join(f"{column} {taken}" for column, taken in self.actions.items())

    def batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch with its protected columns hashed, masked, nulled or removed."""
        for name, taken in self.actions.items():
            index = batch.schema.get_field_index(name)
            if index < 0:
                continue
            if taken == "drop":
                batch = batch.remove_column(index)
                continue
            protected = self._column(name, batch.column(index))
            field_ = pa.field(name, protected.type, nullable=True)
            batch = batch.set_column(index, field_, protected)
        return batch

    def _column(self, name: str, values: pa.Array[Any]) -> pa.Array[Any]:
        taken = self.actions[name]
        if taken == "redact":
            nulls: pa.Array[Any] = pa.nulls(len(values), values.type)
            return nulls
        text = _as_text(values)
        if taken == "mask":
            return mask_text(text, mask_options(self.spec.protect[name]))
        return hmac_text(text, self.keys[str(hash_key(self.spec.protect[name]))])

    def rows(self, rows: list[dict[str, Any]], *, at_source: bool) -> list[dict[str, Any]]:
        """Rejected rows (as the source named their fields) with nothing left in the clear.

        A row the reader itself rejected (`at_source`: a ragged line, a message that is
        not a record) may hold a value under another field's name, so only its protected
        fields keep a (protected) value; its other values become null.
        """
        if not self.spec.protect or not rows:
            return rows
        names = list(dict.fromkeys(name for row in rows for name in row))
        targets = {name: self._target_name(name, i) for i, name in enumerate(names, start=1)}
        protected = {
            name: self._column(
                target, pa.array([_text(row.get(name)) for row in rows], pa.string())
            ).to_pylist()
            for name, target in targets.items()
            if self.actions.get(target) not in (None, "drop")
        }
        return [
            {
                name: protected[name][i] if name in protected else None if at_source else value
                for name, value in row.items()
                if self.actions.get(targets[name]) != "drop"
            }
            for i, row in enumerate(rows)
        ]

    def _target_name(self, name: str, position: int) -> str:
        """The output name of a source field, as rename and normalize_names give it."""
        if name in self.spec.rename:
            return self.spec.rename[name]
        return normalize_name(name, position) if self.spec.normalize_names else name


def _as_text(values: pa.Array[Any]) -> pa.Array[Any]:
    """A column as text: a JSON column's own text, a nested value's JSON, others cast."""
    if pa.types.is_string(values.type):
        return values
    if isinstance(values, pa.ExtensionArray):
        values = values.storage
    if pa.types.is_nested(values.type):
        return pa.array([_text(value) for value in values.to_pylist()], pa.string())
    text: pa.Array[Any] = pc.cast(values, pa.string())
    return text


def _text(value: Any) -> str | None:
    """A raw value as the text a hash or mask reads (nested values as their JSON)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def protector(spec: Transform, project_dir: Path) -> Protector:
    """The stream's protector, its hash keys read from their connections.

    Raises:
        KeyNotConfigured: A hash key's connection is missing, has no password, or holds a
            key shorter than 16 characters. The message names the connection, never a key.
    """
    ids = sorted({key for rule in spec.protect.values() if (key := hash_key(rule)) is not None})
    return Protector(spec, {conn_id: _key(conn_id, project_dir) for conn_id in ids})


def _key(conn_id: str, project_dir: Path) -> bytes:
    setting = (
        f'set {env_var(conn_id)}=\'{{"conn_type": "generic", "password": "<a random '
        f"secret of {MIN_KEY_CHARS}+ characters>\"}}' in the environment or the project's "
        ".env (or create the connection in Airflow); keep the same key to keep the same hashes"
    )
    try:
        password = get_connection(conn_id, project_dir).password
    except ConnectionNotFound as exc:
        raise KeyNotConfigured(
            f"protect: hash needs a key, and connection {conn_id!r} is not configured",
            hint=setting,
        ) from exc
    if not password or len(password) < MIN_KEY_CHARS:
        problem = "missing" if not password else f"shorter than {MIN_KEY_CHARS} characters"
        raise KeyNotConfigured(
            f"protect: the password of connection {conn_id!r} is the hash key, and it is {problem}",
            hint=setting,
        )
    register(password)
    return password.encode()


def hmac_text(values: pa.Array[Any], key: bytes) -> pa.Array[Any]:
    """HMAC-SHA256 of each text value, as hex; nulls stay null. Each distinct value is
    hashed once."""
    encoded = pc.dictionary_encode(values)
    assert isinstance(encoded, pa.DictionaryArray)
    digests = pa.array(
        [
            hmac.digest(key, str(value).encode(), "sha256").hex()
            for value in encoded.dictionary.to_pylist()
        ],
        pa.string(),
    )
    return digests.take(encoded.indices)


def mask_text(values: pa.Array[Any], options: MaskOptions) -> pa.Array[Any]:
    """`***` and the last `keep_last` letters or digits, spaces and punctuation not counted
    (`+47 412 34 567`: `***4567`; a value with fewer than twice that many shows nothing);
    an e-mail its first character and domain (`a***@example.com`)."""
    keep = options.keep_last
    kept = pc.replace_substring_regex(values, r"[^\p{L}\p{N}]+", "")
    long_enough = pc.greater_equal(pc.utf8_length(kept), max(2 * keep, 1))
    if keep:
        tail = pc.replace_substring_regex(kept, f"^.*(.{{{keep}}})$", HIDDEN + r"\1")
    else:
        tail = pc.if_else(pc.is_valid(values), HIDDEN, pa.scalar(None, pa.string()))
    masked = pc.if_else(long_enough, tail, HIDDEN)
    if options.email:
        emails = pc.match_substring_regex(values, _EMAIL)
        domain = pc.replace_substring_regex(values, r"^([^@])[^@]*@", r"\1" + HIDDEN + "@")
        masked = pc.if_else(emails, domain, masked)
    result: pa.Array[Any] = masked
    return result
