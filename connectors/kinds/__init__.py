"""Source kinds: one module per kind, one object holding what dagsmith knows of it.

`BUILTIN` lists dagsmith's own kinds; third-party kinds are packages that declare a
`SourceKind` under the `dagsmith.sources` entry point group. The spec's source union,
the readers, profiling, the agent's guard, labels and the offline planner's file suffixes
are all built from `kinds()`; a kind it does not hold is an error that lists the known
ones. docs/sources.md says how to add a kind.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Annotated, Any, Union

from pydantic import Field, ValidationError

from connectors.errors import SpecError
from connectors.kinds.base import Hints, Reach, SourceKind
from connectors.kinds.csv import CSV
from connectors.kinds.excel import EXCEL
from connectors.kinds.json import JSON, JSONL
from connectors.kinds.kafka import KAFKA
from connectors.kinds.parquet import PARQUET
from connectors.kinds.rest import REST
from connectors.kinds.sql import SQL
from connectors.kinds.websocket import WEBSOCKET
from connectors.kinds.xml import XML

BUILTIN: tuple[SourceKind[Any], ...] = (
    CSV,
    JSON,
    JSONL,
    EXCEL,
    XML,
    PARQUET,
    REST,
    SQL,
    KAFKA,
    WEBSOCKET,
)
ENTRY_POINTS = "dagsmith.sources"
"""The entry point group a package declares its kinds in (each names a `SourceKind`)."""


@cache
def kinds() -> tuple[SourceKind[Any], ...]:
    """The built-in kinds, then those of installed plugins.

    Raises:
        SpecError: A plugin's kind is not a `SourceKind`, or a `kind` value is taken twice.
    """
    found = list(BUILTIN)
    for point in entry_points(group=ENTRY_POINTS):
        kind = point.load()
        if not isinstance(kind, SourceKind):
            raise SpecError(
                f"entry point {point.name!r} ({point.value}) of {ENTRY_POINTS} is not a SourceKind"
            )
        found.append(kind)
    _check_unique(found)
    return tuple(found)


def _check_unique(found: list[SourceKind[Any]]) -> None:
    owner: dict[str, str] = {}
    for kind in found:
        for name in kind.names:
            if name in owner:
                raise SpecError(
                    f"source kind {name!r} is declared twice ({owner[name]}, {kind.model_path})",
                    hint=f"rename the plugin's kind, or uninstall one of the {ENTRY_POINTS} "
                    "packages",
                )
            owner[name] = kind.model_path


def _by_name() -> dict[str, SourceKind[Any]]:
    return {name: kind for kind in kinds() for name in kind.names}


def names() -> list[str]:
    """Every `kind` value a spec may use."""
    return list(_by_name())


def kind_named(name: str) -> SourceKind[Any]:
    """The kind a spec's `kind` value names.

    Raises:
        SpecError: No registered kind has that name (the message lists the known ones).
    """
    try:
        return _by_name()[name]
    except KeyError:
        raise SpecError(
            f"unknown source kind {name!r}; known kinds: {', '.join(sorted(_by_name()))}",
            hint=f"install the package that provides it ({ENTRY_POINTS} entry point)",
        ) from None


def kind_of(spec: Any) -> SourceKind[Any]:
    """The kind of a source spec; an object that is not its kind's model is refused too.

    Raises:
        SpecError: The spec is of no registered kind.
    """
    kind = kind_named(str(getattr(spec, "kind", "")))
    if not isinstance(spec, kind.model):
        raise SpecError(f"a {type(spec).__name__} is not a {kind.name} source spec")
    return kind


def source_union() -> Any:
    """The spec's source type: a union of every kind's model, told apart by `kind`."""
    models = tuple(dict.fromkeys(kind.model for kind in kinds()))
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007


def named_by_url(url: str, connection: str | None) -> Any | None:
    """The source a URL of a kind's own scheme names (`kafka://orders`); None for others.

    Raises:
        SpecError: The URL or the connection does not make a source of that kind.
    """
    kind = kind_of_url(url)
    if kind is None or kind.from_url is None:
        return None
    fields = {"kind": kind.name, **kind.from_url(url, connection)}
    try:
        return kind.model.model_validate(fields)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise SpecError(f"{url}: {problem['msg']}") from None


def kind_of_url(url: str) -> SourceKind[Any] | None:
    """The kind whose scheme a URL has (`kafka://`, `wss://`); None for any other URL."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    return next((k for k in kinds() if scheme in k.schemes), None)


def suffixes() -> dict[str, str]:
    """File suffix -> `kind` value, over every kind (format detection)."""
    return {suffix: name for kind in kinds() for suffix, name in kind.suffixes.items()}


__all__ = [
    "BUILTIN",
    "ENTRY_POINTS",
    "Hints",
    "Reach",
    "SourceKind",
    "kind_named",
    "kind_of",
    "kind_of_url",
    "kinds",
    "named_by_url",
    "names",
    "source_union",
    "suffixes",
]
