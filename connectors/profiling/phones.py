"""Phone numbers told apart from dates, addresses, decimals and versions.

A regular expression cannot tell `+44 20 7946 0958` from `2024-01-02` or `192.168.1.10`:
all are digits and separators. Values shaped like a phone number, and not like anything
else that is written with digits, are checked with libphonenumber (`phonenumbers`): a
number written with `+` must have its country's length (the plus says what it is, and
ranges libphonenumber does not list as assigned, such as the UK's fiction range `+44 7700
900123`, are still phone numbers), one written with `00` must be valid for its country, a
national one valid for one of `REGIONS` and grouped as that country writes it (`020 7946
0958`, not the id `2024-000123`, which reads as a valid US number).
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
import pyarrow as pa

from connectors.transforms.arrow import pc

SHAPE = r"^(\+|00)?[\d\s().\-/]{7,24}$"
NOT_PHONES = (
    r"^\d{1,4}[-./]\d{1,2}[-./]\d{1,4}([T ].*)?$",  # dates, with or without a time
    r"^\d{1,3}(\.\d{1,3}){3}$",  # IPv4 addresses
    r"^-?\d+([.,]\d+)?$",  # integers and decimals: ids, amounts (E.164 has its `+`)
    r"^\+?\d+[.,]\d+$",
    r"^v?\d+(\.\d+){1,2}([-+]\w+)?$",  # versions
)
REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "JP", "AU", "CA")
"""Countries whose national formats (no `+`) count as phone numbers."""
CHECKED = 300
"""Most distinct candidates parsed per column; the share is estimated from them."""


def share(values: pa.Array[Any], needed: float) -> float:
    """The share of (non-null) text values that are phone numbers.

    Parsing stops once the share cannot reach `needed`; what is returned is then below it.
    """
    if len(values) == 0:
        return 0.0
    shaped = pc.match_substring_regex(values, SHAPE)
    for regex in NOT_PHONES:
        shaped = pc.and_(shaped, pc.invert(pc.match_substring_regex(values, regex)))
    candidates = pc.filter(values, shaped)
    if len(candidates) < needed * len(values):
        return len(candidates) / len(values)
    counts: list[tuple[str, int]] = [
        (item["values"], item["counts"])
        for item in pc.value_counts(candidates)[:CHECKED].to_pylist()
    ]
    checked = sum(count for _, count in counts)
    scale = len(candidates) / len(values) / checked
    valid = invalid = 0
    for text, count in counts:
        if is_phone(text.strip()):
            valid += count
        else:
            invalid += count
        if (checked - invalid) * scale < needed:
            break
    return valid * scale


def is_phone(text: str) -> bool:
    """Whether a text is a phone number: international, or national to one of `REGIONS`."""
    if text.startswith("+"):
        return _possible(text)
    if text.startswith("00"):
        return _parsed("+" + text[2:], None) is not None
    return any(_national(text, region) for region in REGIONS)


def _possible(text: str) -> bool:
    """Whether an international number has a length its country's numbers have."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return False
    reason = phonenumbers.is_possible_number_with_reason(number)
    return bool(reason == phonenumbers.ValidationResult.IS_POSSIBLE)


def _national(text: str, region: str) -> bool:
    number = _parsed(text, region)
    if number is None:
        return False
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.findall(r"\d+", text) == re.findall(r"\d+", written)


def _parsed(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    """The number, when it parses and is valid (for `region`, unless it is international)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None
