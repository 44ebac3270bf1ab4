"""How a request names a text file's reading options: its encoding, delimiter, header and
where a JSON document keeps its records ("(encoding cp1252)", "semicolon separated",
"records at data.items"). The file kinds' `hints` are made of these readers.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from connectors.kinds.base import Hints

_NAME = r"(?P<name>[a-z][\w-]*?)(?![\w-])"
_ENCODING = [
    re.compile(
        rf"\b(?:(?:text\s+)?encoding|charset|character\s+set)\s*(?:is\s+|=\s*|:\s*)?{_NAME}",
        re.IGNORECASE,
    ),
    re.compile(rf"\bencoded\s+(?:in|as|with)\s+{_NAME}", re.IGNORECASE),
    re.compile(r"(?<![\w-])(?P<name>[a-z][\w-]*?)[\s-]+encoded\b", re.IGNORECASE),
]
"""Each names the encoding in group `name`: "(encoding cp1252)", "encoded in latin-1",
"UTF-16 encoded"."""
_DELIMITERS = {"comma": ",", "semicolon": ";", "semi-colon": ";", "tab": "\t", "pipe": "|"}
_SAID = r"(?:(?P<named>comma|semi-?colon|tab|pipe)s?\b|[\"'](?P<char>[,;|\t])[\"'])"
_DELIMITER = [
    re.compile(r"\b(?P<named>comma|semi-?colon|tab|pipe)[\s-]+(?:separated|delimited)\b", re.I),
    re.compile(rf"\b(?:separated|delimited|split)\s+(?:by|with)\s+(?:an?\s+)?{_SAID}", re.I),
    re.compile(rf"\b(?:delimiter|separator)\s*(?:is\s+|=\s*|:\s*)?(?:an?\s+)?{_SAID}", re.I),
]
"""Each names the delimiter in group `named` (a word) or `char`: "semicolon separated",
"delimited by pipes", "delimiter ';'"."""
_NO_HEADER = re.compile(
    r"\b(?:(?:(?:has|with)\s+)?no|without\s+(?:a\s+)?)\s*header(?:\s+(?:row|line))?\b|"
    r"\bheaderless\b",
    re.IGNORECASE,
)
_RECORDS = re.compile(
    r"\b(?:with\s+)?(?:the\s+)?records?\s+(?:are\s+)?(?:at|path|under)\s+(?P<p>[\w-]+(?:\.[\w-]+)*)",
    re.IGNORECASE,
)

Reader = Callable[[str], Hints]


def encoding(text: str) -> Hints:
    """The encoding a request names ("(encoding cp1252)", "UTF-16 encoded"); a name that is
    no text encoding is left for the planner to ask about."""
    for match in _first(_ENCODING, text):
        try:
            return Hints({"encoding": codecs.lookup(match.group("name")).name}, (match.span(),))
        except LookupError:
            continue
    return Hints()


def delimiter(text: str) -> Hints:
    """The delimiter a request names ("semicolon separated", "delimiter ';'")."""
    for match in _first(_DELIMITER, text):
        named = match.group("named")
        char = _DELIMITERS[named.lower()] if named else match.group("char")
        return Hints({"delimiter": char}, (match.span(),))
    return Hints()


def _first(patterns: list[re.Pattern[str]], text: str) -> list[re.Match[str]]:
    """Every match of the patterns, in the order they stand in the text."""
    found = [match for pattern in patterns for match in pattern.finditer(text)]
    return sorted(found, key=lambda match: match.start())


def header(text: str) -> Hints:
    """No header row ("has no header", "headerless"); a header otherwise (the default)."""
    match = _NO_HEADER.search(text)
    return Hints({"header": False}, (match.span(),)) if match else Hints()


def records_path(text: str) -> Hints:
    """Where a JSON document keeps its records ("records at data.items")."""
    match = _RECORDS.search(text)
    return Hints({"records_path": match.group("p")}, (match.span(),)) if match else Hints()


def combined(*readers: Reader) -> Reader:
    """One kind's hints made of several readers: their options, spans and first question."""

    def read(text: str) -> Hints:
        found = [reader(text) for reader in readers]
        options = {key: value for hints in found for key, value in hints.options.items()}
        spans = tuple(span for hints in found for span in hints.spans)
        question = next((hints.question for hints in found if hints.question), None)
        return Hints(options, spans, question)

    return read
