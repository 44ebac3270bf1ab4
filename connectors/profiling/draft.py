"""A pipeline spec drafted from a profile: what `dagsmith init` writes.

The draft is validated as a `Pipeline` before it is returned, so what is written runs as
written. Column names are those the transform will give (snake_case), types are the
inferred ones, and keys, mode and cursor follow the profile's candidates:

- a candidate key (an id-named one first) makes the stream an upsert on it, else append;
- required columns are the key's, plus, on a fully read source, every column without
  nulls (a sample cannot promise that);
- a candidate cursor becomes the incremental cursor.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from connectors import kinds
from connectors.errors import SpecError
from connectors.profiling import quality
from connectors.profiling.columns import NULL_TOKEN
from connectors.profiling.model import Profile
from connectors.spec.models import Pipeline
from connectors.transforms.names import normalize_name


def pipeline(
    profile: Profile, name: str, table: str | None = None, target: str | None = None
) -> Pipeline:
    """The pipeline `name`, one stream loading the profiled source into `table` (or `name`)."""
    names = {c.name: normalize_name(c.name, i) for i, c in enumerate(profile.columns, start=1)}
    likely = quality.likely_key(profile)
    key = [names[column] for column in likely] if likely in profile.keys else []
    stream: dict[str, Any] = {
        "name": name,
        "source": _source(profile),
        "transform": _transform(profile, names, key),
        "load": {"table": table or name, "mode": "upsert" if key else "append", "keys": key},
    }
    if profile.cursors:
        stream["incremental"] = {"cursor": names[profile.cursors[0]]}
    document: dict[str, Any] = {
        "pipeline": name,
        "description": f"Drafted by `dagsmith init` from a profile of {_rows(profile)}",
        "target": target,
        "streams": [stream],
    }
    try:
        return Pipeline.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SpecError(f"cannot draft pipeline {name!r}: {problems}") from None


def _rows(profile: Profile) -> str:
    """How many rows the profile saw, as a description can say it honestly."""
    rows = profile.rows
    if rows.value is None:
        return f"the first {profile.sampled_rows} rows (the source holds more)"
    about = "about " if rows.estimated else ""
    return f"{about}{rows.value} rows ({profile.sampled_rows} sampled)"


def _source(profile: Profile) -> dict[str, Any]:
    source = dict(profile.source)
    if not profile.format.get("rejected_rows"):
        source.pop("ragged", None)  # profiling reads ragged rows leniently; keep the default
    tokens = _null_tokens(profile)
    if tokens and "null_values" in kinds.kind_named(source["kind"]).model.model_fields:
        source["null_values"] = ["", *tokens]
    return source


def _null_tokens(profile: Profile) -> list[str]:
    """Texts read as null in a typed column (`NA` among numbers): the reader nulls them."""
    typed = [c for c in profile.columns if c.inferred.type != "string"]
    hints = [hint for column in typed for hint in column.hints]
    return sorted({h.removeprefix(NULL_TOKEN) for h in hints if h.startswith(NULL_TOKEN)})


def _transform(profile: Profile, names: dict[str, str], key: list[str]) -> dict[str, Any]:
    types = {names[c.name]: c.inferred.type for c in profile.columns}
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
