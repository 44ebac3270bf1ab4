"""Pattern hints on text values (email, phone, URL, UUID...) and the PII flag.

Each hint is a vectorised regular expression over the sampled text (phone numbers are
checked with libphonenumber, see `phones`); a hint holds when at least `SHARE` of the
non-null values match, and the profile keeps that share as the evidence of a PII flag.
Dates and timestamps reuse the casting rules' own expressions, so "looks like a date"
means "would be read as a date".
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from connectors.profiling import phones
from connectors.transforms.arrow import pc
from connectors.transforms.casting import _DATE, _TIMESTAMP

SHARE = 0.9
FLOAT_EXACT = 2**53
"""Integers beyond this lose digits in a float64 (pandas, JSON readers): keep them exact."""

PATTERNS: dict[str, str] = {
    "email": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    "url": r"^(?i:https?|ftp)://[^\s/$.?#][^\s]*$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "iso_date": _DATE,
    "iso_timestamp": _TIMESTAMP,
    "currency": r"^[-+]?(?:[$€£¥]\s?[\d,]+(\.\d+)?|[\d,]+(\.\d+)?\s?(?:[$€£¥]|USD|EUR|GBP))$",
    "ipv4": r"^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$",
}
PII_HINTS = frozenset({"email", "phone", "ipv4"})
_PII_NAMES = re.compile(
    r"(^|_)(e_?mail|phone|mobile|ssn|passport|iban|birth|dob|first_?name|last_?name|"
    r"surname|full_?name|address|street|ip_?address|credit_?card|card_?number|tax_?id)(_|$)",
    re.IGNORECASE,
)


def hints(text: pa.Array[Any]) -> dict[str, float]:
    """The pattern hints that hold for a column of text, each with its share of values."""
    values = pc.drop_null(text)
    if len(values) == 0:
        return {}
    shares = {name: _share(values, regex) for name, regex in PATTERNS.items()}
    shares["phone"] = phones.share(values, SHARE)
    found = {name: share for name, share in shares.items() if share >= SHARE}
    if "iso_date" in found:
        found.pop("iso_timestamp", None)
    if _share(values, r"^0\d+$") > 0 and (digits := _share(values, r"^\d+$")) >= SHARE:
        found["leading_zeros"] = digits
    if _too_big_for_float(values):
        found["exceeds_float"] = 1.0
    return found


def pii_reason(name: str, shares: dict[str, float]) -> str:
    """Why a column likely holds personal data (by its values or its name), or ""."""
    fired = [f"{hint} on {shares[hint]:.0%} of values" for hint in PII_HINTS if hint in shares]
    if fired:
        return "; ".join(sorted(fired))
    if match := _PII_NAMES.search(name):
        return f"name ({match.group(2)})"
    return ""


def _share(values: pa.Array[Any], regex: str) -> float:
    matched = pc.sum(pc.match_substring_regex(values, regex)).as_py() or 0
    return float(matched) / len(values)


def _too_big_for_float(values: pa.Array[Any]) -> bool:
    """Whether some integer text has more digits than a float64 holds exactly."""
    digits = pc.utf8_ltrim(pc.utf8_trim_whitespace(values), characters="+-0")
    integers = pc.match_substring_regex(values, r"^\s*[+-]?\d{16,}\s*$")
    long_ones = pc.filter(digits, pc.fill_null(integers, False))
    return any(int(v) > FLOAT_EXACT for v in long_ones.to_pylist() if v)
