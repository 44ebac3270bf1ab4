"""Per-column statistics of a sample, and the spec type each column should get.

The inferred type is the first candidate whose casting rule (the transform's own,
`cast_column`) reads at least `THRESHOLD` of the non-null values; the share read is the
evidence. Text the plain rules do not read may be written in a format (`values`: date
patterns, number separators, boolean words), proposed with the same evidence. Distinct
counts are exact when the sample is the whole source, otherwise
estimated from the sample (the GEE estimator: values seen once stand for many unseen).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pyarrow as pa

from connectors.masking import mask
from connectors.profiling import patterns, values
from connectors.profiling.model import ColumnProfile, Count, TypeGuess
from connectors.transforms.arrow import pc
from connectors.transforms.casting import cast_column, is_text
from connectors.types import ColumnType, holds_json

THRESHOLD = 0.95
TOP = 5
EXAMPLES = 3
MAX_TEXT = 60
_MONEY = re.compile(r"(^|_)(amount|price|total|cost|balance|fee|revenue|paid)(_|$)", re.I)
_NUMERIC = ("integer", "bigint", "float", "decimal")
NULL_TOKEN = "null_token:"  # noqa: S105 - a hint prefix, not a secret
"""Prefix of the hint naming a text that stands for null, such as `NA`."""
_NULL_TEXTS = pa.array(["NA", "N/A", "n/a", "NULL", "null", "None", "NaN", "-", "?"])


def null_tokens(array: pa.Array[Any]) -> list[str]:
    """Texts such as `NA` that stand for null in a text column, sorted."""
    if not is_text(array.type):
        return []
    marked = pc.is_in(pc.utf8_trim_whitespace(pc.cast(array, pa.string())), _NULL_TEXTS)
    found = pc.unique(pc.filter(array, pc.fill_null(marked, False))).to_pylist()
    return sorted(str(token) for token in found)


def profile_column(name: str, values: pa.ChunkedArray[Any], rows: Count) -> ColumnProfile:
    """Profile one column of a sample; `rows` is the source's row count (for estimates)."""
    array = plain(values)
    tokens = null_tokens(array)
    if tokens:
        # `NA` among numbers is a null; among words it may be a value, and stays one.
        nulled = pc.if_else(pc.is_in(array, pa.array(tokens)), pa.scalar(None, array.type), array)
        array = nulled if infer_type(name, nulled, [])[0].type != "string" else array
    nulls = array.null_count + _empty_text(array)
    total = len(array)
    text = pc.cast(array, pa.string()) if is_text(array.type) else None
    shares = patterns.hints(text) if text is not None else {}
    found = [*shares, *(f"{NULL_TOKEN}{token}" for token in tokens)]
    guess, typed = infer_type(name, array, found)
    reason = patterns.pii_reason(name, shares)
    column = ColumnProfile(
        name=name,
        source_type=str(array.type),
        inferred=guess,
        nullable=nulls > 0,
        null_ratio=round(nulls / total, 4) if total else 0.0,
        distinct=_distinct(typed, total, rows),
        top=_top(array),
        examples=_examples(array),
        hints=found,
        pii=bool(reason),
        pii_reason=reason,
    )
    _ranges(column, typed)
    return column


def infer_type(name: str, array: pa.Array[Any], found: list[str]) -> tuple[TypeGuess, Any]:
    """The spec type for a column and the values cast to it (nulls where they fail)."""
    if not is_text(array.type):
        ctype = ColumnType.from_arrow(array.type)
        return TypeGuess(str(ctype), 1.0, 0), cast_column(array, ctype).values
    if "leading_zeros" in found:
        return TypeGuess("string", 1.0, 0), array
    for candidate in _candidates(name, array, found):
        guess, cast = _attempt(array, candidate)
        if guess.share >= THRESHOLD:
            return guess, cast
    written = values.propose(array, bool(_MONEY.search(name)), THRESHOLD)
    if written is not None:
        return written.guess, written.values
    return TypeGuess("string", 1.0, 0), array


def _candidates(name: str, array: pa.Array[Any], found: list[str]) -> list[str]:
    number = "float"
    if _MONEY.search(name) and "exceeds_float" not in found:
        number = "decimal(18,4)"
    zoned = pc.any(pc.match_substring_regex(array, r"(Z|[+-]\d\d(:?\d\d)?)$")).as_py()
    stamp = "timestamptz" if zoned else "timestamp"
    words = pc.any(pc.match_substring_regex(array, "(?i)^\\s*(true|false|t|f|yes|no)\\s*$"))
    boolean = ["boolean"] if words.as_py() else []
    nested = pc.any(pc.match_substring_regex(array, r"^\s*[\[{]")).as_py()
    return ["integer", "bigint", number, *boolean, "date", stamp, *(["json"] if nested else [])]


def _attempt(array: pa.Array[Any], type_text: str) -> tuple[TypeGuess, Any]:
    cast = cast_column(array, ColumnType.parse(type_text))
    present = len(array) - array.null_count - _empty_text(array)
    valid = len(cast.values) - cast.values.null_count
    share = valid / present if present else 0.0
    return TypeGuess(type_text, round(share, 4), present - valid), cast.values


def plain(values: pa.ChunkedArray[Any]) -> pa.Array[Any]:
    """A column as one array, dictionaries decoded."""
    array: pa.Array[Any] = (
        pa.concat_arrays(values.chunks) if values.num_chunks else pa.array([], values.type)
    )
    if pa.types.is_dictionary(array.type):
        array = pc.dictionary_decode(array)
    return array


def _empty_text(array: pa.Array[Any]) -> int:
    if not is_text(array.type):
        return 0
    blank = pc.equal(pc.utf8_trim_whitespace(pc.cast(array, pa.string())), "")
    return int(pc.sum(blank).as_py() or 0)


def _distinct(typed: pa.Array[Any], total: int, rows: Count) -> Count:
    seen = int(pc.count_distinct(typed).as_py())
    if not rows.estimated and rows.value == total:
        return Count(seen, estimated=False)
    present = len(typed) - typed.null_count
    if not present or rows.value is None:
        return Count(seen, estimated=True)
    source = rows.value * present / max(total, 1)
    counts = pc.value_counts(pc.drop_null(typed)).field("counts")
    once = int(pc.sum(pc.equal(counts, 1)).as_py() or 0)
    estimate = math.sqrt(source / present) * once + (seen - once)
    return Count(int(min(estimate, source)), estimated=True)


def _top(array: pa.Array[Any]) -> list[tuple[Any, int]]:
    if holds_json(array.type) or len(array) == 0:
        return []
    counts = pc.value_counts(pc.drop_null(array))
    order = pc.array_sort_indices(counts.field("counts"), order="descending")
    best = pc.take(counts, order[:TOP]).to_pylist()
    return [(clip(item["values"]), item["counts"]) for item in best if item["counts"] > 1]


def _examples(array: pa.Array[Any]) -> list[Any]:
    present = pc.drop_null(array[: 10 * EXAMPLES])
    seen: list[Any] = []
    for value in present.to_pylist():
        shown = clip(value)
        if shown not in seen:
            seen.append(shown)
    return seen[:EXAMPLES]


def clip(value: Any) -> Any:
    """A sampled value fit for a report (and a model): text with secrets masked, cut to
    `MAX_TEXT` characters, marked."""
    if isinstance(value, dict | list):
        value = str(value)
    if isinstance(value, str):
        value = mask(value)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[: MAX_TEXT - 1] + "…"
    return value


def _ranges(column: ColumnProfile, typed: Any) -> None:
    base = column.inferred.type.split("(")[0]
    if holds_json(typed.type) or base == "json":
        return
    bounds = pc.min_max(typed)
    column.min, column.max = clip(bounds["min"].as_py()), clip(bounds["max"].as_py())
    if base in _NUMERIC:
        column.negatives = int(pc.sum(pc.less(typed, 0)).as_py() or 0)
