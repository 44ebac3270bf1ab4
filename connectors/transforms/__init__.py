"""Transforms: the spec's `transform` rules applied to a stream of Arrow batches.

`apply` is the entry point; `protector` reads the keys of `protect` (docs/protect.md);
`pushdown` is the part of a filter a database source may run
in its query; `output_types` tells a loader which spec type each output
column has (a declared type wins: json and timestamptz travel as Arrow text and
timestamps).
"""

from __future__ import annotations

import pyarrow as pa

from connectors.spec.models import Load, Transform
from connectors.transforms.engine import apply
from connectors.transforms.filter import pushdown
from connectors.transforms.names import normalize_name
from connectors.transforms.protect import Protector, protector
from connectors.types import ColumnType

__all__ = [
    "Protector",
    "apply",
    "normalize_name",
    "output_types",
    "protector",
    "pushdown",
    "upsert_keys",
]


def upsert_keys(load: Load) -> list[str]:
    """The key columns `apply` rejects nulls in: an upsert's keys (a null key never matches)."""
    return list(load.keys) if load.mode == "upsert" else []


def output_types(spec: Transform, schema: pa.Schema) -> dict[str, ColumnType]:
    """The spec type of each column of `apply`'s output schema (declared types win)."""
    return {
        field.name: spec.types.get(field.name) or ColumnType.from_arrow(field.type)
        for field in schema
    }
