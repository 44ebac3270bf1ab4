"""Column naming rules: rename, normalize_names, select and drop.

They depend only on the source's column names, so they are resolved once per source
schema into a `Layout`: which source column lands where, under which name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from connectors.errors import TransformError
from connectors.spec.filter import filter_columns
from connectors.spec.models import Transform

MAX_NAME_BYTES = 63  # PostgreSQL truncates longer identifiers, so two could collide
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class Layout:
    """Where each output column comes from: `sources[i]` (a source index) is `names[i]`.

    `hidden` columns come last: only the filter reads them, and they leave after it.
    """

    sources: list[int]
    names: list[str]
    renamed: int
    normalized: int
    dropped: int
    hidden: tuple[str, ...] = ()


def normalize_name(name: str, position: int) -> str:
    """A snake_case ASCII identifier of at most 63 bytes for a source column name.

    Args:
        name: The column name as the source gives it ("Order ID", "Montant €").
        position: The column's 1-based position, which names a column left with no letters.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = _NOT_WORD.sub("_", _CAMEL.sub("_", ascii_name)).strip("_").lower()
    if not words:
        return f"column_{position}"
    if words[0].isdigit():
        words = f"_{words}"
    return words[:MAX_NAME_BYTES].rstrip("_")


def plan_layout(spec: Transform, source_names: list[str]) -> Layout:
    """Resolve the naming rules for one source schema.

    Raises:
        TransformError: A rename names a missing column, two columns end up with the same
            name, or select/drop names a column that does not exist.
    """
    missing = sorted(set(spec.rename) - set(source_names))
    if missing:
        raise _unknown("rename", missing, source_names, "rename keys are the source's own names")
    names = [_target_name(spec, name, i) for i, name in enumerate(source_names, start=1)]
    _check_unique(source_names, names)
    chosen = _choose(spec, names)
    kept = {names[i] for i in chosen}
    position = {name: i for i, name in enumerate(names)}
    hidden = tuple(name for name in _filtered_on(spec, names) if name not in kept)
    renamed = sum(name in spec.rename for name in source_names)
    normalized = sum(
        old != new for old, new in zip(source_names, names, strict=True) if old not in spec.rename
    )
    return Layout(
        sources=[*chosen, *(position[name] for name in hidden)],
        names=[*(names[i] for i in chosen), *hidden],
        renamed=renamed,
        normalized=normalized,
        dropped=len(names) - len(chosen),
        hidden=hidden,
    )


def _filtered_on(spec: Transform, names: list[str]) -> list[str]:
    """The columns the filter reads, in source order; one it cannot find is an error."""
    wanted = filter_columns(spec.filter) if spec.filter is not None else set()
    if unknown := sorted(wanted - set(names)):
        raise _unknown("filter", unknown, names, "use the names after rename and normalize_names")
    return [name for name in names if name in wanted]


def _target_name(spec: Transform, name: str, position: int) -> str:
    if name in spec.rename:
        return spec.rename[name]
    return normalize_name(name, position) if spec.normalize_names else name


def _check_unique(source_names: list[str], names: list[str]) -> None:
    first: dict[str, str] = {}
    for source, name in zip(source_names, names, strict=True):
        if name in first:
            raise TransformError(
                f"source columns {first[name]!r} and {source!r} both become column {name!r}",
                hint=f"add a rename for one of them, e.g. rename: {{{source!r}: {name}_2}}",
            )
        first[name] = source


def _choose(spec: Transform, names: list[str]) -> list[int]:
    """Source indexes kept by select (in its order) then drop."""
    position = {name: i for i, name in enumerate(names)}
    unknown = [name for name in [*(spec.select or []), *spec.drop] if name not in position]
    if unknown:
        rule = "select" if spec.select and unknown[0] in spec.select else "drop"
        raise _unknown(rule, unknown, names, "use the names after rename and normalize_names")
    kept = spec.select if spec.select is not None else names
    dropped = set(spec.drop)
    return [position[name] for name in kept if name not in dropped]


def _unknown(rule: str, unknown: list[str], available: list[str], hint: str) -> TransformError:
    return TransformError(
        f"{rule}: no column {', '.join(map(repr, unknown))}; "
        f"available columns: {', '.join(map(repr, available))}",
        hint=hint,
    )
