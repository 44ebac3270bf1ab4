"""How the source writes its values: "dates are day first", "amounts use a comma for
decimals", "treat Y as true and N as false", "times are in Europe/Amsterdam".

Each phrase (`agent.planner.format_phrases`) becomes format options on a column type in
`transform.types`: on the columns it names ("dates in shipped are day first", "amount
uses...", "... for paid"), or, naming none, on every column of its kind the profile found:
ambiguous text that the phrase settles (the profile's own reading), columns of that kind
already read with a format, and text columns whose sampled values all read with it. A column
the profile left as text because it reads two ways (`03/05/2024`) is a question unless the
user said which reading: a wrong spec is worse than a question.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from agent.planner.format_checks import contradicted, other_order, reads
from agent.planner.format_phrases import Said, phrases
from agent.planner.grammar import IDENT, take_list
from agent.planner.state import Column, Parsed
from connectors.spec.types import parse_type

KINDS = {
    "date": ("date", "timestamp", "timestamptz"),
    "number": ("integer", "bigint", "float", "decimal", "double"),
    "boolean": ("boolean",),
}
_NOUNS = {
    "date": r"dates?|days?|times?|timestamps?|datetimes?|moments?",
    "number": r"amounts?|numbers?|prices?|values?|totals?|money|figures?|decimals?|percentages?",
    "boolean": r"flags?|booleans?|values?",
}
_NOUN = "|".join(f"(?:{n})" for n in _NOUNS.values())
_COL = rf"(?:\"[^\"]{{1,255}}\"|`[^`]{{1,255}}`|{IDENT})"
_LIST = rf"{_COL}(?:\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*){_COL})*"
_SUBJECT = re.compile(
    rf"\s*(?:(?:also|please|actually|now|oh|no|so|ok|okay|wait|sorry|note\s+that|remember\s+that|"
    rf"and|but|however)[\s,]+)*(?:(?:in|for)\s+)?(?:(?:all\s+)?(?:the|our|"
    rf"its|their)\s+)?(?:(?:{_NOUN})\s+(?:in|of|for)\s+(?:the\s+)?(?:columns?\s+)?)?"
    rf"(?P<cols>{_LIST})?\s*(?:(?:columns?|fields?|{_NOUN})\s*)?:?\s*(?:(?:uses?|using|are|is|has|"
    rf"have|with|come|comes|look|looks|should\s+be|must\s+be|were|was|written|holds?|contains?)"
    rf"\b\s*(?:(?:as|with|in|like|an?|the)\s+)?)?",
    re.IGNORECASE,
)
"""The words before a phrase that name what it is about: "dates in shipped are", "amount uses"."""
_OBJECT = re.compile(r"\s+(?:in|for|of|on)\s+(?:the\s+)?(?:columns?\s+)?", re.IGNORECASE)
_PRIOR = re.compile(
    rf"(?:^|[,;:.]\s*|\b(?:and|but|then)\s+)(?:in|for)\s+(?:the\s+)?(?:columns?\s+)?"
    rf"(?P<cols>{_LIST})(?:\s+columns?)?\s*,$",
    re.IGNORECASE,
)
"""A clause of its own that names the column of the next: "in the paid column, ja means
true" (not the tail of a clause such as "a comma for thousands,")."""
_JOINED = re.compile(r"\s*(?:,|;|and|,\s*and|with|while|but|\()?\s*", re.IGNORECASE)
_BOUNDARY = re.compile(
    r"[,;](?=\s)|\s[-\u2013\u2014(]\s?|\.(?=\s)|\band\b|\bbut\b|\bthen\b|^", re.IGNORECASE
)
_ORDERED = {"style", "decimal", "thousands"}
_DEFAULTS = {"date": "date", "number": "float", "boolean": "boolean"}
_ASK_ORDER = (
    "Are the dates in {cols} ({example}) day first or month first? Say 'day first' or "
    "'month first'."
)
_ASK_DECIMAL = (
    "Is the separator in {cols} ({example}) a decimal comma or a thousands separator? Say "
    "'decimal comma' or 'decimal point'."
)


def read_formats(text: str, parsed: Parsed, earlier: dict[str, Any] | None = None) -> None:
    """Format phrases into `parsed.transform['types']`; a question for a column left as text
    because it reads two ways, unless a phrase (or an earlier plan's type) settles it."""
    last: tuple[str, int, list[str]] = ("", -1, [])  # kind, end, columns of the last phrase
    for said in _merged(text, phrases(text)):
        if said.question:
            parsed.use(said.span)
            parsed.ask(said.question)
            continue
        named, span = _named(text, said, parsed)
        if not parsed.is_free(*said.span):
            continue
        parsed.use(span)
        if (
            named is None
            and last[0] == said.kind
            and _JOINED.fullmatch(text, last[1], said.span[0])
        ):
            named = last[2]  # "x means true in gift and blank means false"
        columns = named if named is not None else _of_kind(said, parsed)
        last = (said.kind, span[1], columns)
        for column in columns:
            _apply(column, said, parsed, text[said.span[0] : said.span[1]])
    _ask_readings(parsed, earlier or {})


def _merged(text: str, found: list[Said]) -> list[Said]:
    """Phrases of one kind that follow each other with nothing but a joining word between
    them, as one ("a comma for decimals and a dot for thousands")."""
    merged: list[Said] = []
    for said in found:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.kind == said.kind
            and not (last.question or said.question)
            and _JOINED.fullmatch(text, last.span[1], said.span[0])
        ):
            last.options |= said.options
            if "format" in last.options:  # an example or picture says more than an order
                last.options.pop("style", None)
            last.order = last.order or said.order
            last.span = (last.span[0], said.span[1])
            continue
        merged.append(said)
    return merged


def _named(text: str, said: Said, parsed: Parsed) -> tuple[list[str] | None, tuple[int, int]]:
    """The columns a phrase names (None: none) and the span it reads with its subject."""
    start, end = said.span
    names: list[str] = []
    if said.columns:  # "the comma in amount is the decimal separator"
        names = _columns(" and ".join(said.columns), parsed) or []
    if after := _OBJECT.match(text, end):
        items, used = take_list(text[after.end() :], parsed.facts)
        tail = re.match(r"\s+columns?\b", text[after.end() + used :], re.IGNORECASE)
        cols = _columns(" and ".join(items), parsed) if items else None
        if cols is not None:
            names, end = [*names, *cols], after.end() + used + (tail.end() if tail else 0)
    boundary = max(m.end() for m in _BOUNDARY.finditer(text, 0, start))
    before = _SUBJECT.fullmatch(text, boundary, start)
    if before is not None and not before.group("cols"):
        # "in the paid column, ja means true": the column in the clause before
        prior = _PRIOR.search(text, 0, boundary)
        if prior is not None and (cols := _columns(prior.group("cols"), parsed)):
            return [*cols, *names], (prior.start(), end)
    if before is not None:
        cols = _columns(before.group("cols"), parsed) if before.group("cols") else []
        if cols is None:  # a column the source does not have: asked, nothing applied
            return [], (boundary, end)
        names, start = [*cols, *names], boundary
    return (list(dict.fromkeys(names)) or None), (start, end)


def _columns(written: str | None, parsed: Parsed) -> list[str] | None:
    """The columns of a list (a noun such as "amounts" names a column only when the profile
    has it); None when a word is no column."""
    if not written:
        return []
    found = []
    for word in re.findall(_COL, written):
        if word.lower() == "and":
            continue
        name = word.strip('"`')
        noun = re.fullmatch(_NOUN, name, re.IGNORECASE) is not None
        if parsed.facts is not None:
            known = _profile_column(name, parsed)
            if known is None and not noun:
                return None if parsed.column(name, "format") is None else []
            found += [known] if known else []
        elif not noun or not name.lower().endswith("s"):
            found.append(name)  # without a profile, "amount" names a column, "amounts" none
    return found


def _profile_column(word: str, parsed: Parsed) -> str | None:
    if parsed.facts is None:
        return None
    lowered = {name.lower(): name for name in parsed.facts}
    return lowered.get(word.lower()) or lowered.get(word.lower().removesuffix("s"))


def _of_kind(said: Said, parsed: Parsed) -> list[str]:
    """The profiled columns a phrase that names none is about; a question if none or no
    profile."""
    what = {"date": "dates", "number": "numbers", "boolean": "flags"}[said.kind]
    if parsed.facts is None:
        parsed.ask(
            f"Which columns hold the {what} written that way? Name them, e.g. "
            f"'{what} in COLUMN are ...'."
        )
        return []
    found = [c.name for c in parsed.facts.values() if _fits(c, said)]
    against = [q for c in parsed.facts.values() if (q := other_order(c, said))]
    if found or (not against and any(_already(c, said) for c in parsed.facts.values())):
        return found
    parsed.ask(
        against[0]
        if against
        else f"No column of the source holds {what} written that way: which one do you mean?"
    )
    return found


def _already(column: Column, said: Said) -> bool:
    """Whether the profile already reads a column of the phrase's kind the way it says
    ("day first" of dates it read as `%d/%m/%Y`): nothing to change, nothing to ask."""
    base = column.type.split("(")[0]
    return base in KINDS[said.kind] and bool(column.format) and reads(column, _typed(column, said))


def _fits(column: Column, said: Said) -> bool:
    """Whether a profiled column is of the phrase's kind: ambiguous text it settles, a column
    of the kind (read with a format, or any timestamp for a time zone), or text whose sampled
    values all read with it."""
    if said.order in column.readings:
        return True
    base = column.type.split("(")[0]
    if base in KINDS[said.kind] and not (said.order and set(said.options) <= _ORDERED):
        # an order alone ("day first") settles no column the profile already read
        if "timezone" in said.options:
            return base.startswith("timestamp")
        return bool(column.format) and reads(column, _typed(column, said))
    return base == "string" and not column.readings and reads(column, _typed(column, said))


def _typed(column: Column | None, said: Said) -> dict[str, Any]:
    """The type a column takes with the phrase's options: the profile's reading it settles,
    or its type with the options added (replacing a date pattern), else the kind's type."""
    base: dict[str, Any] = {"type": _DEFAULTS[said.kind]}
    profiled = column is not None and column.type.split("(")[0] in KINDS[said.kind]
    if column is not None and said.order is not None and said.order in column.readings:
        reading = column.readings[said.order]
        base = dict(reading) if isinstance(reading, dict) else {"type": reading}
    elif column is not None and profiled:
        base = {"type": column.type, **column.format}
    options = dict(said.options)
    if column is not None and said.order in column.readings:
        options.pop("style", None)  # the reading's own pattern says it more exactly
    if {"format", "style"} & set(options):
        base = {k: v for k, v in base.items() if k not in ("format", "style")}
        if re.search(r"%[HI]", str(options.get("format"))) and base["type"] == "date":
            base["type"] = "timestamp"
    if "timezone" in options and (base["type"] == "date" or not profiled):
        base["type"] = "timestamptz"
    if (options.get("currency") or options.get("accounting")) and base["type"] == "float":
        base["type"] = "decimal(18,4)"
    return {**base, **options}


def _apply(name: str, said: Said, parsed: Parsed, phrase: str) -> None:
    """The phrase's options on a column's type; a question when they make no valid type, or
    one its sampled values do not read with."""
    types = parsed.transform.setdefault("types", {})
    column = parsed.facts.get(name) if parsed.facts else None
    earlier = types.get(name)
    typed = _typed(column, said)
    if isinstance(earlier, dict) and earlier.get("type") == typed["type"]:
        typed = {**earlier, **typed}
    try:
        parse_type(typed)
    except ValidationError as exc:
        message = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
        parsed.ask(f"{name}: {message}. How are its values written?")
        return
    if column is not None and (
        question := contradicted(column, said, typed, phrase) or other_order(column, said)
    ):
        parsed.ask(question)
        return
    types[name] = typed


def _ask_readings(parsed: Parsed, earlier: dict[str, Any]) -> None:
    """One question for the columns left as text because they read two ways."""
    if parsed.facts is None:
        return
    typed = {**earlier, **parsed.transform.get("types", {})}
    left = [c for c in parsed.facts.values() if c.readings and c.name not in typed]
    for orders, template in ((("day_first", "month_first"), _ASK_ORDER),
                             (("decimal_comma", "decimal_point"), _ASK_DECIMAL)):  # fmt: skip
        columns = [c for c in left if set(orders) & set(c.readings)]
        if columns:
            example = next((v for c in columns for v in c.values), "")
            shown = " and ".join(c.name for c in columns)
            parsed.ask(
                template.format(cols=shown, example=repr(example) if example else "as sampled")
            )
