"""Validate OpenLineage events with jsonschema, against the JSON schema of the spec as the
openlineage client package carries it.

openlineage-python ships no JSON schema file (nor do openlineage-integration-common,
openlineage-airflow or Airflow's OpenLineage provider: they ship only their own facets). It
ships the spec's schemas as code instead: `openlineage.client.generated` is generated from
them, one attrs class per definition, each naming its schema URL (`_get_schema()`). This
module turns those classes back into JSON schemas (properties, types, required fields,
enums, formats) and validates an event against the event's schema and every facet against
the schema its `_schemaURL` names, so an unknown facet URL fails too.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
import typing
from enum import Enum
from typing import Any

import attr
import jsonschema
import openlineage.client.generated as generated
from openlineage.client.generated import base

# Required by the spec although the classes give them defaults (the client fills them in).
_ALWAYS_REQUIRED = {"_producer", "_schemaURL", "producer", "schemaURL", "eventTime"}
_FORMATS = {"eventTime": "date-time", "runId": "uuid", "producer": "uri", "_producer": "uri"}
_FACET_BASES = (
    base.BaseFacet,
    base.RunFacet,
    base.JobFacet,
    base.DatasetFacet,
    base.InputDatasetFacet,
    base.OutputDatasetFacet,
)


def _classes() -> dict[str, type]:
    """Schema URL -> generated class, over every module of `openlineage.client.generated`."""
    found: dict[str, type] = {}
    for module in pkgutil.iter_modules(generated.__path__):
        loaded = importlib.import_module(f"{generated.__name__}.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, type) and attr.has(value) and hasattr(value, "_get_schema"):
                found.setdefault(value._get_schema(), value)
    return found


FACETS = _classes()


def schema_of(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a generated class (a `$ref` into `defs`, filled as needed)."""
    key = f"{cls.__module__}.{cls.__qualname__}"
    if cls in _FACET_BASES:
        return {
            "type": "object",
            "required": ["_producer", "_schemaURL"],
            "properties": {
                "_producer": {"type": "string", "format": "uri"},
                "_schemaURL": {"type": "string", "format": "uri"},
            },
        }
    if key not in defs:
        defs[key] = {}
        names = {**vars(typing), **vars(importlib.import_module(cls.__module__))}
        hints = typing.get_type_hints(cls, names)
        properties = {}
        required = []
        for field in attr.fields(cls):
            prop = _type(hints[field.name], defs)
            if field.name in _FORMATS:
                prop = {**prop, "format": _FORMATS[field.name]}
            properties[field.name] = prop
            if field.default is attr.NOTHING or field.name in _ALWAYS_REQUIRED:
                required.append(field.name)
        defs[key] = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    return {"$ref": f"#/$defs/{key}"}


def _type(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_type(arg, defs) for arg in args]}
    if hint is type(None):
        return {"type": "null"}
    if origin is list:
        return {"type": "array", "items": _type(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(args[1], defs)}
    if hint is Any:
        return {}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"enum": [member.value for member in hint]}
    if isinstance(hint, type) and attr.has(hint):
        return schema_of(hint, defs)
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    return {"type": simple[hint]}


def run_event_schema() -> dict[str, Any]:
    """The JSON schema of a RunEvent (facets as base facets; `validate` checks each one)."""
    defs: dict[str, Any] = {}
    root = schema_of(base.RunEvent, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": defs}


def validate(event: dict[str, Any]) -> None:
    """Raise jsonschema's ValidationError when the event, or one of its facets, is invalid."""
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.validate(event, run_event_schema(), format_checker=checker)
    for name, facet in _facets(event):
        url = facet["_schemaURL"]
        assert url in FACETS, f"facet {name!r}: {url} is no schema the client knows"
        defs: dict[str, Any] = {}
        schema = {**schema_of(FACETS[url], defs), "$defs": defs}
        jsonschema.validate(facet, schema, format_checker=checker)


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    holders = [event["run"].get("facets"), event["job"].get("facets")]
    for dataset in [*event.get("inputs", []), *event.get("outputs", [])]:
        holders += [dataset.get("facets"), dataset.get("inputFacets"), dataset.get("outputFacets")]
    return [(name, facet) for holder in holders if holder for name, facet in holder.items()]
