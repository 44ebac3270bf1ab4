"""The phrases that say how values are written, each as a `Said`: its span, the kind of
column it is about and the format options it gives ("dates are day first": date,
style day_first; "amounts use a comma for decimals": number, decimal ',').

Examples are read only after a cue ("look like 05.03.2024", "written as 1.234,56"): a date or
number elsewhere is a filter's value. A picture (`dd/mm/yyyy`) or a strptime pattern
(`"%d.%m.%Y"`) is a format wherever it stands.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from agent.planner import format_examples as ex

_I = re.IGNORECASE


@dataclass
class Said:
    """One phrase: where it stands, its kind (date, number, boolean), the options it gives,
    the order it tells (day_first/month_first; decimal_comma/decimal_point), and what the
    user must still say (a question)."""

    span: tuple[int, int]
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    order: str | None = None
    question: str = ""
    columns: tuple[str, ...] = ()
    """Columns named inside the phrase ("the comma in amount is the decimal separator")."""


_ORDERS = {
    "day_first": (
        r"\bday[\s-]*first\b|\bdays?\s+(?:comes?\s+|goes\s+|go\s+|is\s+|are\s+)?(?:first|before\s+"
        r"(?:the\s+)?months?)\b|\beuropean(?:[\s-]style)?\s+dates?\b|\b(?:british|uk)\s+dates?\b|"
        r"\bday[\s/-]month[\s/-]year\b|\bDMY\b|\bdates?\s+(?:are|is)\s+(?:in\s+)?(?:european|british)"
        r"(?:\s+(?:style|format|order))?\b"
    ),
    "month_first": (
        r"\bmonth[\s-]*first\b|\bmonths?\s+(?:comes?\s+|goes\s+|go\s+|is\s+|are\s+)?(?:first|"
        r"before\s+(?:the\s+)?days?)\b|\b(?:american|us|u\.s\.)(?:[\s-]style)?\s+dates?\b|"
        r"\bmonth[\s/-]day[\s/-]year\b|\bMDY\b|\bdates?\s+(?:are|is)\s+(?:in\s+)?(?:american|us)"
        r"(?:\s+(?:style|format|order))?\b"
    ),
}
_CUE = (
    r"(?:look(?:s|ing)?\s+like|written\s+(?:as|like)|formatted\s+(?:as|like)|in\s+the\s+form(?:at)?"
    r"\s+(?:of\s+)?|of\s+the\s+form\s+|format(?:ted)?\s*(?:is\s+|:\s*)?|such\s+as|e\.g\.,?|like|as"
    r"\s+in|read\s+like)\s*[\"'`]?"
)
_CUED = re.compile(rf"\b{_CUE}", _I)
_STRPTIME = re.compile(r"[\"'`](?P<f>[^\"'`]*%[a-zA-Z][^\"'`]*)[\"'`]")
_SEPARATORS = {"comma": ",", "dot": ".", "period": ".", "point": ".", "full stop": ".",
               "space": " ", "apostrophe": "'", "underscore": "_", ",": ",", ".": ".",
               "'": "'", "_": "_"}  # fmt: skip
_SEP = (
    r"(?P<sep>commas?|dots?|periods?|points?|full\s+stops?|spaces?|apostrophes?|underscores?|"
    r"[,.'_])"
)
_IN = r"(?:\s+in\s+(?:the\s+)?(?P<col>[A-Za-z_]\w{0,62}))?"
_DECIMAL = [
    rf"\bdecimal\s+{_SEP}",
    rf"\b(?:an?\s+|the\s+)?{_SEP}\s+(?:as|for)\s+(?:the\s+)?decimals?(?:\s+(?:separators?|points?|"
    r"marks?|places?))?\b",
    rf"\b{_SEP}{_IN}\s+(?:is|as)\s+(?:the\s+)?decimal(?:\s+(?:separator|point|mark))?\b",
    r"\bdecimals?(?:\s+(?:separators?|points?|marks?))?\s*(?:is|are|as|with|use|uses|using|"
    rf"separated\s+by|=)\s+(?:an?\s+|the\s+)?{_SEP}\b",
]
_THOUSANDS = [
    rf"\b(?:an?\s+|the\s+)?{_SEP}\s+(?:as|for)\s+(?:the\s+)?thousands?(?:\s+separators?)?\b",
    rf"\bthousands?(?:\s+separators?)?\s*(?:is|are|as|with|use|uses|using|separated\s+by|=)\s+"
    rf"(?:an?\s+|the\s+)?{_SEP}\b",
    rf"\b{_SEP}{_IN}\s+(?:is|are)\s+(?:an?\s+|the\s+)?thousands?\s+separators?\b",
]
_CURRENCIES = {
    "euro": ("€", "EUR"), "dollar": ("$", "USD"), "pound": ("£", "GBP"), "yen": ("¥", "JPY"),
    "franc": ("CHF",), "€": ("€",), "$": ("$",), "£": ("£",), "¥": ("¥",), "eur": ("EUR",),
    "usd": ("USD",), "gbp": ("GBP",), "chf": ("CHF",), "jpy": ("JPY",),
}  # fmt: skip
_CUR = (
    r"(?P<cur>euros?|dollars?|pounds?(?:\s+sterling)?|yen|(?:swiss\s+)?francs?|€|\$|£|¥|EUR|USD|"
    r"GBP|CHF|JPY)"
)
_CURRENCY = [
    rf"\b(?:are\s+|is\s+)?in\s+{_CUR}(?![\w$€£¥])",
    rf"(?:\b(?:with|have|has|carry|carrying|strip|remove|drop|ignore|prefixed\s+(?:with|by)|"
    rf"followed\s+by)\s+(?:an?\s+|the\s+)?){_CUR}(?:\s+(?:signs?|symbols?|prefix(?:es)?|"
    r"suffix(?:es)?|codes?))?(?![\w$€£¥])",
    rf"\bcurrency(?:\s+(?:signs?|symbols?|codes?))?\s*(?:is\s+|are\s+|:\s*)?{_CUR}(?![\w$€£¥])",
]
_PERCENT = (
    r"\bpercent(?:ages?)?s?\s+(?:are\s+|as\s+|should\s+be\s+|become\s+|read\s+as\s+|mean\s+)?"
    r"(?:an?\s+|the\s+|plain\s+|whole\s+)?(?:(?P<f>fractions?|shares?|ratios?|decimals?)|"
    r"(?P<n>numbers?))\b"
)
_FRACTION = (
    r"\b(?:are|as|is|be)\s+(?:an?\s+)?(?:(?P<f>fractions?(?:\s+of\s+(?:one|1))?)|(?P<n>whole"
    r"\s+numbers|percentage\s+points))\b"
)
"""What follows a subject that names percentages: "share is a fraction", "... as whole numbers"."""
_PERCENT_EXAMPLE = (
    r"(?P<ex>\d+(?:[.,]\d+)?)\s?%\s+(?:means|meaning|is|as|becomes|should\s+be|reads\s+as|=|->)"
    r"\s+(?P<v>\d*[.,]?\d+)"
)
_ACCOUNTING = [
    r"\bnegatives?(?:\s+(?:numbers?|amounts?|values?))?\s+(?:are\s+|come\s+|appear\s+|is\s+)?"
    r"(?:shown\s+|written\s+|wrapped\s+|put\s+)?(?:in|within|between|with|use|using)\s+"
    r"(?:round\s+)?(?:parenthes[ie]s|brackets)",
    r"\baccounting(?:[\s-]style)?\s+(?:negatives?|format|style|notation)",
    r"\b(?:parenthes[ie]s|brackets)\s+(?:mean|means|are|is|for|denote|mark)\s+(?:an?\s+)?negatives?",
    r"\(\d[\d.,]*\)\s+(?:is|means|=)\s+(?:a\s+)?(?:negative\b|-\d[\d.,]*)",
]
_W = r"(?:\"[^\"]{0,12}\"|'[^']{0,12}'|[A-Za-z0-9✓]{1,12})"
_TRUE, _FALSE = r"(?:true|yes)\b", r"(?:false|no)\b"
_BOOLEAN = [
    rf"\b(?:treat|read|take|count|consider|map|interpret)(?:ing)?\s+(?P<t>{_W})\s+(?:as|to)\s+"
    rf"{_TRUE}(?:\s*(?:,\s*(?:and\s+)?|and\s+)(?P<f>{_W})\s+as\s+{_FALSE})?",
    rf"\b(?:treat|read|take|count|consider|map|interpret)(?:ing)?\s+(?P<f>{_W})\s+(?:as|to)\s+"
    rf"{_FALSE}(?:\s*(?:,\s*(?:and\s+)?|and\s+)(?P<t>{_W})\s+as\s+{_TRUE})?",
    rf"(?<![\w\"'])(?P<t>{_W})\s+(?:means|=|stands\s+for|for)\s+{_TRUE}(?:\s*(?:,\s*(?:and\s+)?|"
    rf"and\s+)(?P<f>{_W})\s+(?:means|=|stands\s+for|for)\s+{_FALSE})?",
    rf"(?<![\w\"'])(?P<f>{_W})\s+(?:means|=|stands\s+for|for)\s+{_FALSE}(?:\s*(?:,\s*(?:and\s+)?|"
    rf"and\s+)(?P<t>{_W})\s+(?:means|=|stands\s+for|for)\s+{_TRUE})?",
    rf"\b(?:flags?|booleans?|yes/no\s+columns?)\s+(?:are|use|as|in|with|written\s+as|hold)\s+"
    rf"(?P<t>{_W})\s*(?:/|or)\s*(?P<f>{_W})",
    rf"(?<![\w/])(?P<t>{_W})\s*/\s*(?P<f>{_W})(?:\s+(?:flags?|booleans?|values?))?(?![\w/])",
]
_EMPTY_FALSE = (
    r"\b(?:(?:treat|read|take|count)(?:ing)?\s+)?(?:an?\s+)?(?:empty|blank)(?:\s+(?:cells?|values?))?"
    r"\s+(?:means|is|as|=|for)\s+(?:false|no)\b"
)
_PAIRS = {("y", "n"), ("j", "n"), ("ja", "nee"), ("ja", "nein"), ("oui", "non"), ("si", "no"),
          ("yes", "no"), ("t", "f"), ("true", "false"), ("1", "0"), ("x", "o")}  # fmt: skip
"""Word pairs read as true/false without 'true' or 'false' beside them ("ja/nee")."""


def phrases(text: str) -> list[Said]:
    """Every format phrase of the text, in order of where it stands."""
    found = [said for finder, hint in _FINDERS if hint.search(text) for said in finder(text)]
    found.sort(key=lambda said: said.span)
    kept: list[Said] = []
    for said in found:  # a phrase inside a longer one is part of it
        if not any(k.span[0] <= said.span[0] and said.span[1] <= k.span[1] for k in kept):
            kept = [
                k for k in kept if not (said.span[0] <= k.span[0] and k.span[1] <= said.span[1])
            ]
            kept.append(said)
    return kept


def _orders(text: str) -> Iterator[Said]:
    for order, pattern in _ORDERS.items():
        for m in re.finditer(pattern, text, _I):
            yield Said(m.span(), "date", {"style": order}, order)


def _dates(text: str) -> Iterator[Said]:
    said_order = next((o for o, p in _ORDERS.items() if re.search(p, text, _I)), None)
    for cue in _CUED.finditer(text):
        example = ex.NUMERIC.match(text, cue.end()) or ex.NAMED.match(text, cue.end())
        if example is None:
            continue
        span = cue.start(), example.end()
        pattern = ex.date_pattern(example, said_order)
        if pattern is None:
            yield Said(span, "date", question=_order_question(example.group(0)))
        else:
            yield Said(span, "date", {"format": pattern}, order_of(pattern))
    for m in ex.PICTURE.finditer(text):
        if (pattern := ex.picture_pattern(m.group("p"))) is not None:
            yield Said(_named_as(text, m), "date", {"format": pattern}, order_of(pattern))
    for m in _STRPTIME.finditer(text):
        yield Said(_named_as(text, m), "date", {"format": m.group("f")}, order_of(m.group("f")))


def _named_as(text: str, match: re.Match[str]) -> tuple[int, int]:
    """A pattern's span with the word that may follow it ("dd.mm.yyyy format")."""
    after = re.match(r"\s+(?:format|style|notation|pattern)\b", text[match.end() :], _I)
    return match.start(), match.end() + (after.end() if after else 0)


def order_of(pattern: str) -> str | None:
    """The order of day and month in a strptime pattern (None: year first, or no order)."""
    day, month = pattern.find("%d"), pattern.find("%m")
    if -1 in (day, month) or pattern.startswith("%Y"):
        return None
    return "day_first" if day < month else "month_first"


def _order_question(example: str) -> str:
    return f"Is {example!r} day first or month first? Say 'dates are day first' or 'month first'."


def _zones(text: str) -> Iterator[Said]:
    cue = r"(?:\b(?:time\s*zone|timezone|tz)\s*(?:is\s+|of\s+|:\s*|=\s*)?|\b(?:in|as|at)\s+)"
    zone = rf"(?:{cue})?(?P<z>[A-Za-z_]+(?:/[A-Za-z_+\-0-9]+)+)|{cue}(?P<z2>UTC|GMT)\b"
    for m in re.finditer(rf"(?:{zone})(?:\s+(?:local\s+)?time\b)?", text, _I):
        if (found := _zone(m.group("z") or m.group("z2"))) is not None:
            yield Said(m.span(), "date", {"timezone": found})
    for m in _CITY_TIME.finditer(text):
        if (city := _zone(m.group("z"))) is not None:
            yield Said(m.span(), "date", {"timezone": city})


_CITY_TIME = re.compile(r"\b(?:in\s+)?(?P<z>[A-Z][a-z]+(?:[ _][A-Z][a-z]+)?)\s+(?:local\s+)?time\b")
"""A city's time: "Amsterdam time", "in New York local time" (the city capitalised)."""


def _zone(name: str) -> str | None:
    """An IANA zone by its name (any case), or by its city when one zone has it."""
    zones = _zones_by_name()
    return zones.get(name.lower()) or zones.get(name.lower().replace(" ", "_"))


@lru_cache(maxsize=1)
def _zones_by_name() -> dict[str, str]:
    names = sorted(zoneinfo.available_timezones())
    found = {name.lower(): name for name in names}
    cities: dict[str, list[str]] = {}
    for name in names:
        if "/" in name and not name.startswith("Etc/"):
            cities.setdefault(name.rsplit("/", 1)[1].lower(), []).append(name)
    found |= {city: zones[0] for city, zones in cities.items() if len(zones) == 1}
    return found


def _separators(text: str) -> Iterator[Said]:
    for key, patterns in (("decimal", _DECIMAL), ("thousands", _THOUSANDS)):
        for pattern in patterns:
            for m in re.finditer(pattern, text, _I):
                sep = _SEPARATORS[re.sub(r"s$|\s+", " ", m.group("sep").lower()).strip()]
                if key == "decimal" and sep not in ".,":
                    continue
                # a decimal comma, or a dot for thousands, settles `1,234` (`1.234`) one way
                comma = sep == "," if key == "decimal" else sep == "."
                order = "decimal_comma" if comma else "decimal_point"
                named = tuple(filter(None, [m.groupdict().get("col")]))
                yield Said(
                    m.span(), "number", {key: sep}, order if sep in ".," else None, columns=named
                )


def _numbers(text: str) -> Iterator[Said]:
    for pattern in _CURRENCY:
        for m in re.finditer(pattern, text, _I):
            yield Said(m.span(), "number", {"currency": list(_currency(m.group("cur")))})
    for pattern in (_PERCENT, _FRACTION):
        for m in re.finditer(pattern, text, _I):
            yield Said(m.span(), "number", {"percent": "fraction" if m.group("f") else "number"})
    for m in re.finditer(_PERCENT_EXAMPLE, text, _I):
        shown, value = (float(m.group(g).replace(",", ".")) for g in ("ex", "v"))
        fraction = abs(value * 100 - shown) < 1e-9
        if value == shown or fraction:
            yield Said(m.span(), "number", {"percent": "fraction" if fraction else "number"})
    for pattern in _ACCOUNTING:
        for m in re.finditer(pattern, text, _I):
            yield Said(m.span(), "number", {"accounting": True})


def _currency(written: str) -> tuple[str, ...]:
    """The symbols and codes of a currency as written: "euros", "€", "pounds sterling"."""
    words = [w.rstrip("s") if len(w) > 3 else w for w in written.lower().split()]
    return next(_CURRENCIES[w] for w in words if w in _CURRENCIES)


def _number_examples(text: str) -> Iterator[Said]:
    for cue in _CUED.finditer(text):
        number = ex.NUMBER.match(text, cue.end())
        if number and (options := ex.number_options(number.group(0).strip())) is not None:
            order = "decimal_comma" if options.get("decimal") == "," else "decimal_point"
            yield Said((cue.start(), number.end()), "number", options, order)


def _booleans(text: str) -> Iterator[Said]:
    for i, pattern in enumerate(_BOOLEAN):
        for m in re.finditer(pattern, text, _I):
            true, false = (_word(m.group(g)) for g in ("t", "f"))
            pair = ((true or "").lower(), (false or "").lower())
            if i == len(_BOOLEAN) - 1 and pair not in _PAIRS:
                continue  # a bare pair is read only when it is a known one
            options = {"true_values": [true] if true is not None else []}
            options["false_values"] = [false] if false is not None else []
            yield Said(m.span(), "boolean", {k: v for k, v in options.items() if v})
    for m in re.finditer(_EMPTY_FALSE, text, _I):
        yield Said(m.span(), "boolean", {"false_values": [""]})


def _word(written: str | None) -> str | None:
    """A word as the values hold it ("empty" and "blank" stand for the empty value)."""
    if written is None:
        return None
    return "" if written.lower() in ("empty", "blank") else written.strip("\"'")


_NUMBER_WORDS = (
    r"decimal|thousand|currenc|euro|dollar|pound|yen|franc|[€$£¥%(]|eur|usd|gbp|chf|jpy|percent|"
    r"fraction|negative|accounting|whole"
)
_FINDERS = [
    (_orders, re.compile(r"first|before|european|british|uk|american|us|u\.s\.|year|dmy|mdy", _I)),
    (_dates, re.compile(r"\d|dd|mm|yy|%", _I)),
    (_zones, re.compile(r"/|time|tz|utc|gmt", _I)),
    (_separators, re.compile(r"decimal|thousand", _I)),
    (_numbers, re.compile(_NUMBER_WORDS, _I)),
    (_number_examples, re.compile(r"\d")),
    (_booleans, re.compile(r"true|false|yes|no|/|flag|boolean", _I)),
]
"""Each finder, and the words without which it finds nothing (most requests have none)."""
