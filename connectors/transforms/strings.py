"""The `strings` rule: unicode normalisation, trimming, case and empty-as-null on text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from connectors.spec.models import Strings
from connectors.transforms.arrow import pc

_CASE: dict[tuple[str, bool], Callable[[pa.Array[Any]], pa.Array[Any]]] = {
    ("lower", True): pc.ascii_lower,
    ("upper", True): pc.ascii_upper,
    ("lower", False): pc.utf8_lower,
    ("upper", False): pc.utf8_upper,
}


def normalize_text(values: pa.Array[Any], rule: Strings) -> tuple[pa.Array[Any], int]:
    """Apply the rule to one text column.

    Unicode normalisation comes first, since NFKC can turn a no-break space into a space
    that trimming then removes. ASCII-only columns (the common case) take the much
    cheaper ASCII kernels and skip normalisation, which cannot change them.

    Returns:
        The new column and how many empty texts became null.
    """
    ascii_only = pc.all(pc.string_is_ascii(values)).as_py() is not False
    if rule.unicode and not ascii_only:
        values = pc.utf8_normalize(values, rule.unicode)
    if rule.trim:
        values = pc.ascii_trim_whitespace(values) if ascii_only else pc.utf8_trim_whitespace(values)
    if rule.case:
        values = _CASE[rule.case, ascii_only](values)
    if not rule.empty_as_null:
        return values, 0
    empty = pc.equal(values, "")
    emptied = pc.sum(empty).as_py() or 0
    if emptied:
        values = pc.if_else(empty, pa.scalar(None, values.type), values)
    return values, emptied
