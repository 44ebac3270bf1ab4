"""What a source kind says about itself: one object per kind, registered in `connectors.kinds`.

A kind's heavy parts (its spec model, reader, sampler, format detection) are named by
`module:name` paths and imported when first used, so `dagsmith run` imports the readers it
needs and no others; its light parts (label, reach) are plain functions of its spec.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from connectors.connections import Connection
    from connectors.lineage.names import DatasetName
    from connectors.profiling.sample import Sample
    from connectors.runtime import ReadContext
    from connectors.spec.base import SourceModel

M = TypeVar("M", bound="SourceModel")


@dataclass(frozen=True)
class Reach:
    """What reading a source touches, for the agent's guard to check against the request.

    Plain data: `connectors` cannot import the guard, so a kind describes and the guard
    (`agent.orchestrator.guardrails`) decides.
    """

    connections: tuple[tuple[str, str], ...] = ()
    """(connection id, what it is for, e.g. 'API'): the user must have named each."""
    hosts_of: tuple[str, ...] = ()
    """Connections whose host is contacted: a host the user named, never a metadata address."""
    verbatim: tuple[tuple[str, str], ...] = ()
    """(text, what it is, e.g. 'query') run as given: the user must have written it."""
    locations: tuple[str, ...] = ()
    """Paths and URLs read: the user must have named each (or, for a URL, its host)."""


@dataclass(frozen=True)
class Hints:
    """A kind's options read from the words of a request (the offline planner's hints)."""

    options: Mapping[str, Any] = field(default_factory=dict)
    """Spec fields the words give, e.g. an Excel file's `sheet`."""
    spans: tuple[tuple[int, int], ...] = ()
    """The (start, end) of the words read, so no other reader takes them."""
    question: str | None = None
    """What to ask when the words leave out an option the kind cannot go without."""


def no_hints(_text: str) -> Hints:
    """A kind whose request names nothing but its location."""
    return Hints()


@dataclass(frozen=True)
class SourceKind(Generic[M]):
    """One kind of source: its spec model, reader, profiling hooks, guard reach and label."""

    name: str
    """The kind's main `kind` value (its model may accept more: csv's also reads `tsv`)."""
    model_path: str
    """`module:Class` of the spec model, a `SourceModel` whose `kind` is a `Literal`."""
    reader_path: str
    """`module:function` of the reader, `read(spec, ctx) -> Iterator[pa.RecordBatch]`."""
    label: Callable[[M], str]
    """A source in a few words for people (commit subjects, pull requests)."""
    reaches: Callable[[M], Reach]
    """What reading the source touches (paths, URLs, connections, hosts, query text)."""
    sampler_path: str = "connectors.profiling.sample:head"
    """`module:function` sampling it for a profile, `(spec, ctx, rows, full) -> Sample`."""
    suffixes: Mapping[str, str] = field(default_factory=dict)
    """File suffix -> the `kind` value a file so named is read as (`.tsv` -> tsv)."""
    named_by: frozenset[str] = frozenset()
    """The suffixes that make a word of a request a file of this kind (offline planner);
    fewer than `suffixes` where a suffix is too common in prose (`.txt`)."""
    detect_path: str | None = None
    """`module:function` reading a file's head into its spec and findings,
    `(path, kind, location, head) -> (spec, findings)`; None: the path alone."""
    found: tuple[str, ...] = ()
    """Spec fields a profile reads off the source itself (an API's records path and paging):
    a spec written from the profile takes them as found, whatever the request said."""
    hints: Callable[[str], Hints] = no_hints
    """The kind's options in the words of a request ("records at orders/order")."""
    schemes: frozenset[str] = frozenset()
    """URL schemes that name a source of this kind in a request or to `dagsmith profile`
    (`kafka://orders`, `wss://feeds.example.com/trades`)."""
    from_url: Callable[[str, str | None], dict[str, Any]] | None = None
    """The spec fields a URL of one of `schemes` and a connection id give."""
    origin_is_connection: bool = False
    """A bare URL of the kind stands for a connection holding its origin (a feed's
    `wss://host`), as an API's does; the rest of the URL is the source."""
    watermarks: bool = True
    """A profile's candidate cursor makes a drafted spec incremental; False for streams
    (a topic keeps its own place, a feed has no past to skip)."""
    positioned: bool = False
    """The source keeps its own place (Kafka offsets): its reader starts from the position
    committed with the last load and the new one commits with this load (`ReadContext`)."""
    datasets: Callable[[M, Connection | None, Path], tuple[DatasetName, ...]] | None = None
    """The datasets it reads, named as OpenLineage names them (`connectors.lineage.names`),
    from the spec, its connection (if it names one) and the folder paths start from; None:
    a plugin that does not say (lineage then names it by its kind and label)."""

    @cached_property
    def model(self) -> type[M]:
        """The spec model class."""
        model: type[M] = imported(self.model_path)
        return model

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every `kind` value the model accepts."""
        annotation = self.model.model_fields["kind"].annotation
        return tuple(str(value) for value in typing.get_args(annotation))

    def read(self, spec: M, ctx: ReadContext) -> Iterator[pa.RecordBatch]:
        """Stream the source's batches with its reader (imported now)."""
        batches: Iterator[pa.RecordBatch] = imported(self.reader_path)(spec, ctx)
        return batches

    def sample(self, spec: M, ctx: ReadContext, rows: int, full: bool) -> Sample:
        """A bounded sample for a profile (every row when `full`)."""
        taken: Sample = imported(self.sampler_path)(spec, ctx, rows, full)
        return taken

    def detect(self, path: str, kind: str, location: Any, head: bytes) -> tuple[M, dict[str, Any]]:
        """A spec for the file at `path` and what its head says (encoding, sheets...)."""
        if self.detect_path is None:
            return self.model.model_validate({"kind": kind, "path": path}), {}
        found: tuple[M, dict[str, Any]] = imported(self.detect_path)(path, kind, location, head)
        return found


def imported(path: str) -> Any:
    """The object a `module:name` path names, imported when first needed."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
