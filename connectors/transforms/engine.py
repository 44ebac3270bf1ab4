"""The transform engine: a spec's rules applied batch by batch, bad rows sent to rejects."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from connectors.errors import TransformError
from connectors.runtime import Rejects, StreamStats
from connectors.spec.filter import filter_columns
from connectors.spec.models import Transform
from connectors.transforms.arrow import int_range, pc
from connectors.transforms.casting import Cast, cast_column, is_text
from connectors.transforms.filter import Mask, compile_filter
from connectors.transforms.names import Layout, plan_layout
from connectors.transforms.nulls import declared_non_null, non_null
from connectors.transforms.protect import Protector, protector
from connectors.transforms.strings import normalize_text
from connectors.transforms.udf import Udf, cast_to, empty_batch, load_steps, run_step
from connectors.transforms.validate import (
    Checks,
    Failure,
    check_declared_values,
    compile_checks,
    failure_reasons,
    fill,
    missing_required,
    null_keys,
    nulled_non_finite,
    out_of_range,
    require_columns,
)

if TYPE_CHECKING:
    from connectors.incremental import Watermark

log = logging.getLogger("dagsmith")


def apply(
    batches: Iterator[pa.RecordBatch],
    spec: Transform,
    rejects: Rejects,
    stats: StreamStats,
    keys: Sequence[str] = (),
    guard: Protector | None = None,
    watermark: Watermark | None = None,
) -> Iterator[pa.RecordBatch]:
    """Apply `spec` to a stream of source batches, lazily, one batch at a time.

    Every output batch has the same schema: declared `types` give the Arrow types, other
    columns keep the source's (a column of nulls only becomes text). A column stays
    non-nullable where the source's field is and no rule can null it (`nulls`). At least
    one batch, possibly empty, is yielded. Rejected rows go to `rejects` with their source
    values and 1-based source data-row numbers (rows the reader rejected counted in). A row
    whose upsert `keys` hold a null is rejected here too (rule `key`), while its source row
    is at hand. `dedupe` is left to the loader, which sees the whole stream.

    An incremental stream's `watermark` comes first, before any rule judges a row: the
    cursor is cast (a row whose cursor cannot be read is rejected, rule `type`), then rows
    at or before the watermark are left out and counted as filtered, like `filter`'s.

    `protect` is applied after the checks (which see the clear values) and before the
    steps; `guard` holds its keys (read from the working folder's connections when None),
    and protects every row `rejects` keeps. A reason never quotes a protected value.

    Raises:
        TransformError: At once for a step that cannot be imported, a fill/range value
            that does not fit its declared type, or a hash key that is not configured; on
            the first batch for a rule naming a missing column; later for a failing step or
            an unstable step output.
    """
    steps = load_steps(spec.steps)
    check_declared_values(spec)
    guard = guard or protector(spec, Path.cwd())
    if rejects.protector is None:
        rejects.protector = guard
    return _Run(spec, steps, rejects, stats, list(keys), guard, watermark).stream(batches)


class _Frame:
    """One batch in flight, and where each of its rows sits in the source batch."""

    def __init__(
        self, raw: pa.RecordBatch, offset: int, rejects: Rejects, protected: frozenset[str]
    ) -> None:
        self.raw = raw
        self.protected = protected
        self.batch = raw
        self.offset = offset
        self.rejects = rejects
        self.positions = int_range(0, raw.num_rows)
        self.hidden: tuple[str, ...] = ()
        self.non_null: frozenset[str] = frozenset()

    def reject(self, rule: str, failures: list[Failure]) -> int:
        """Send rows that fail any of `failures` to rejects (one reason each) and drop them."""
        failures = [failure for failure in failures if pc.any(failure.mask).as_py()]
        if not failures:
            return 0
        bad = reduce(pc.or_, [failure.mask for failure in failures])
        rows = pc.indices_nonzero(bad)
        reasons = failure_reasons(failures, self.protected)
        source = self.positions.take(rows)
        self.rejects.add(
            rule,
            [reasons[row] for row in rows.to_pylist()],
            _as_given(self.raw.take(source)),
            self.rejects.data_rows(source.to_numpy() + self.offset + 1).tolist(),
        )
        keep = pc.invert(bad)
        self.batch = self.batch.filter(keep)
        self.positions = self.positions.filter(keep)
        return len(rows)


def _as_given(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Rows as the source gave them: a JSON text column holds its decoded values."""
    rows = batch.to_pylist()
    for field in batch.schema:
        if isinstance(field.type, pa.JsonType):
            for row in rows:
                text = row[field.name]
                row[field.name] = None if text is None else json.loads(text)
    return rows


class _Run:
    """The state of one stream's transform: layouts, compiled rules, schema, counters."""

    def __init__(
        self,
        spec: Transform,
        steps: list[Udf],
        rejects: Rejects,
        stats: StreamStats,
        keys: list[str],
        guard: Protector,
        watermark: Watermark | None,
    ):
        self.spec = spec
        self.watermark = watermark
        self.guard = guard
        self.keys = keys
        self.steps = steps
        self.rejects = rejects
        self.stats = stats
        self.tally: Counter[str] = Counter()
        self.layouts: dict[tuple[str, ...], Layout] = {}
        self.checks: Checks | None = None
        self.mask: Mask | None = None
        self.schema: pa.Schema | None = None
        self.offset = 0
        self.declared = {column: type_.arrow() for column, type_ in spec.types.items()}
        # Columns are independent and Arrow kernels release the GIL: use every core.
        self.pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)

    def stream(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Transform each batch; yield an empty batch if the source gave none."""
        try:
            for raw in batches:
                yield self._batch(raw)
            if self.schema is None:
                yield self._batch(_empty_source(self.spec))
        finally:
            self.pool.shutdown()
        self._summarise()

    def _batch(self, raw: pa.RecordBatch) -> pa.RecordBatch:
        self.stats.rows_read += raw.num_rows
        frame = _Frame(raw, self.offset, self.rejects, frozenset(self.spec.protect))
        self.offset += raw.num_rows
        frame.batch = self._strings(self._arrange(frame))
        cast = self._since(frame)
        self._types(frame, [name for name in self.spec.types if name not in cast])
        self._check(frame)
        batch = self.guard.batch(frame.batch)
        for udf in self.steps:
            rows_in = batch.num_rows
            batch = run_step(udf, batch, self.declared)
            self.tally[f"{udf.label} in"] += rows_in
            self.tally[f"{udf.label} out"] += batch.num_rows
        log.debug("transform: batch of %d row(s) gives %d", raw.num_rows, batch.num_rows)
        return self._conform(declared_non_null(batch, frame.non_null))

    def _arrange(self, frame: _Frame) -> pa.RecordBatch:
        """Apply rename, normalize_names and select/drop; columns of nulls become text."""
        raw = frame.raw
        key = tuple(raw.schema.names)
        if not key:
            _refuse_empty(self.spec)
        if key not in self.layouts:
            self.guard.check_names(list(key))
            self.layouts[key] = plan_layout(self.spec, list(key))
            if len(self.layouts) == 1:
                self._first_layout(self.layouts[key])
        layout = self.layouts[key]
        frame.hidden = layout.hidden
        frame.non_null = non_null(self.spec, layout, raw.schema)
        arrays = [raw.column(i) for i in layout.sources]
        arrays = [
            pc.cast(a, pa.string()) if pa.types.is_null(a.type) and n not in self.spec.types else a
            for a, n in zip(arrays, layout.names, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, names=layout.names)

    def _first_layout(self, layout: Layout) -> None:
        schema = pa.schema([(name, pa.null()) for name in layout.names])
        require_columns("types", list(self.spec.types), schema)
        if self.spec.strings and self.spec.strings.columns:
            require_columns("strings.columns", self.spec.strings.columns, schema)
        self.tally.update(renamed=layout.renamed, normalized=layout.normalized)
        self.tally["dropped"] = layout.dropped

    def _strings(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        rule = self.spec.strings
        if rule is None:
            return batch
        wanted = rule.columns or batch.schema.names
        names = [f.name for f in batch.schema if f.name in wanted and is_text(f.type)]
        results = self.pool.map(lambda name: normalize_text(batch.column(name), rule), names)
        for name, (values, emptied) in zip(names, results, strict=True):
            batch = batch.set_column(batch.schema.get_field_index(name), name, values)
            self.tally["emptied"] += emptied
        self.tally["text columns"] = len(names)
        return batch

    def _since(self, frame: _Frame) -> list[str]:
        """Leave out the rows at or before the watermark; the declared columns cast here."""
        if self.watermark is None:
            return []
        cursor = [name for name in self.spec.types if name == self.watermark.spec.cursor]
        self._types(frame, cursor)
        self._leave_out(frame, self.watermark.keep(frame.batch), "watermark")
        return cursor

    def _types(self, frame: _Frame, names: list[str]) -> None:
        if not names:
            return
        batch = frame.batch
        casts: Iterator[Cast] = self.pool.map(
            lambda name: cast_column(batch.column(name), self.spec.types[name]), names
        )
        failures = []
        for name, cast in zip(names, casts, strict=True):
            failures += [
                Failure(name, p.mask, p.message, batch.column(name)) for p in cast.problems
            ]
            frame.batch = frame.batch.set_column(
                batch.schema.get_field_index(name), name, cast.values
            )
        self.tally["type"] += frame.reject("type", failures)

    def _check(self, frame: _Frame) -> None:
        if self.spec.non_finite == "null":
            frame.batch, nulled = nulled_non_finite(frame.batch)
            self.tally["non-finite"] += nulled
        visible = [name for name in frame.batch.schema.names if name not in frame.hidden]
        if self.checks is None:
            self.checks = compile_checks(
                self.spec, pa.schema(frame.batch.schema.field(n) for n in visible)
            )
        frame.batch, filled = fill(frame.batch, self.checks.fill)
        self.tally["filled"] += filled
        self._filter(frame)
        frame.batch = frame.batch.select(visible)
        self.tally["required"] += frame.reject(
            "required", missing_required(frame.batch, self.checks.required)
        )
        self.tally["range"] += frame.reject("range", out_of_range(frame.batch, self.checks.ranges))
        self.tally["key"] += frame.reject("key", null_keys(frame.batch, self.keys))

    def _filter(self, frame: _Frame) -> None:
        """Keep the rows the filter matches; the others are counted, not rejected."""
        if self.spec.filter is None:
            return
        if self.mask is None:
            self.mask = compile_filter(self.spec, frame.batch.schema)
        self._leave_out(frame, self.mask(frame.batch), "filtered")

    def _leave_out(self, frame: _Frame, keep: Any, why: str) -> None:
        """Drop the rows `keep` does not hold: counted as filtered, never rejected."""
        rows = frame.batch.num_rows
        frame.batch = frame.batch.filter(keep)
        frame.positions = frame.positions.filter(keep)
        self.tally[why] += rows - frame.batch.num_rows
        self.stats.rows_filtered += rows - frame.batch.num_rows

    def _conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.schema is None:
            self.schema = batch.schema
        if batch.schema.equals(self.schema):
            return batch
        return cast_to(pa.Table.from_batches([batch]), self.schema, "a later batch")

    def _summarise(self) -> None:
        tally, spec = self.tally, self.spec
        log.info(
            "transform names: %d renamed, %d normalized, %d dropped",
            tally["renamed"],
            tally["normalized"],
            tally["dropped"],
        )
        lines = [
            (
                spec.strings,
                "strings: %d text column(s), %d empty value(s) made null",
                (tally["text columns"], tally["emptied"]),
            ),
            (
                spec.types,
                "types: %d column(s) cast, %d row(s) rejected",
                (len(spec.types), tally["type"]),
            ),
            (tally["non-finite"], "%d NaN or infinite value(s) made null", (tally["non-finite"],)),
            (spec.fill, "fill: %d null(s) filled", (tally["filled"],)),
            (
                self.watermark,
                "incremental: %d row(s) at or before the watermark left out",
                (tally["watermark"],),
            ),
            (spec.filter, "filter: %d row(s) filtered out", (tally["filtered"],)),
            (spec.required, "required: %d row(s) rejected", (tally["required"],)),
            (spec.ranges, "ranges: %d row(s) rejected", (tally["range"],)),
            (spec.protect, "protect: %s", (self.guard.summary(),)),
        ]
        for active, message, args in lines:
            if active:
                log.info("transform " + message, *args)
        for udf in self.steps:
            log.info(
                "transform %s: %d row(s) in, %d out",
                udf.label,
                tally[f"{udf.label} in"],
                tally[f"{udf.label} out"],
            )


def _refuse_empty(spec: Transform) -> None:
    """A source with no column at all (an empty file) cannot meet rules that name columns."""
    named = [*spec.rename, *spec.types, *spec.required, *(spec.select or [])]
    if named:
        raise TransformError(
            f"the source is empty (no header and no row), yet the transform names {named[0]!r}",
            hint="check that the file was written completely",
        )


def _empty_source(spec: Transform) -> pa.RecordBatch:
    """A stand-in for a source that gave no batch at all: the columns the spec names."""
    wanted = spec.select if spec.select is not None else list(spec.types)
    if spec.filter is not None:
        wanted = [*wanted, *sorted(filter_columns(spec.filter) - set(wanted))]
    targets = set(spec.rename.values())
    names = [*spec.rename, *(name for name in wanted if name not in targets)]
    return empty_batch(pa.schema([(name, pa.string()) for name in names]))
