"""Personal data: the columns `transform.protect` hides, and how.

"hash the email column", "mask phone numbers", "redact ssn", "email should be hashed";
"protect personal data" (or "anonymize the PII", "nobody can read the customers' personal
details") writes the rules `dagsmith init --protect` proposes for the columns the profile
flags, and "protect phone" the one proposed for that column. A word names a column when it
points at one: its name, a word of its name (email: `email_address`; "the first and last
names") or the kind of personal data it holds (phone: `mobile`), flagged columns first.
Protecting a column the profile does not flag, without saying how, is a question, as is a
word that could name several columns, or personal data in a source not profiled yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from agent.planner.grammar import IDENT, take_list
from agent.planner.state import Column, Parsed

_ACTIONS = {
    "hash": r"hash(?:es|ed|ing)?|pseudonymi[sz](?:e|es|ed|ing)",
    "mask": r"mask(?:s|ed|ing)?",
    "redact": r"redact(?:s|ed|ing)?|(?:null|blank)(?:s|ed|ing)?\s+out",
    "protect": r"protect(?:s|ed|ing)?|anonymi[sz](?:e|es|ed|ing)|"
    r"(?:nobody|no[\s-]one)\s+(?:else\s+)?(?:can|could|may|should|will)\s+(?:read|see|view)",
}
"""Each action's words; `protect` takes the rule proposed for the column."""
_VERB = "|".join(f"(?P<{action}>{words})" for action, words in _ACTIONS.items())
_DONE = r"hashed|pseudonymi[sz]ed|masked|redacted|(?:nulled|blanked)\s+out|protected|anonymi[sz]ed"
_PERSONAL = (
    r"(?:personal(?:ly)?\s+(?:identifiable\s+)?(?:data|information|info|details)|pii|"
    r"sensitive\s+(?:personal\s+)?(?:data|information))(?:\s+(?:columns?|fields?|values?))?"
)
_OWNER = r"(?:[A-Za-z]+(?:'s|s'|’s)?\s+)?"
"""Whose personal data: "the customers' personal details", "customer PII"."""
_NOUNS = r"columns?|fields?|values?|numbers?|addresses|address|names?"
_NOUN = re.compile(rf"\s+(?P<noun>{_NOUNS})\b", re.IGNORECASE)
"""A word after the columns that names them: "phone numbers", "the email column"."""
_FIRST = re.compile(
    rf"\b(?:{_VERB})\s+(?:(?:all|any|every)\s+)?(?:(?:the|their|its|our)\s+)?", re.IGNORECASE
)
_AFTER = re.compile(
    rf"\b(?P<cols>{_PERSONAL}|{IDENT}(?:\s*(?:,\s*(?:and\s+)?|\band\s+){IDENT})*)"
    rf"(?:\s+(?P<noun>{_NOUNS}))?\s+"
    r"(?:(?:should|must|will|shall|has\s+to|have\s+to|needs?\s+to)\s+be\s+|(?:is|are|gets?)\s+)?"
    rf"(?P<done>{_DONE})\b",
    re.IGNORECASE,
)
_KINDS: dict[str, tuple[str, set[str]]] = {
    "phone": ("phone", {"mobile", "cell", "tel", "telephone"}),
    "email": ("email", {"mail"}),
    "ip": ("ipv4", set()),
}
"""Words that name a kind of personal data: the profile's flag on such values, and the other
words that name a flagged column of that kind."""
_PLURALS = ("columns", "fields", "values", "numbers", "addresses", "names")
_JOINED = ("number", "numbers", "address", "addresses", "name", "names")
"""Nouns that make a column's name with the word before them: "phone numbers"."""
_NOT_PROFILED = (
    "Which columns hold personal data, and how should I protect them? Say 'hash email, "
    "mask phone' (hash, mask, redact or drop)."
)


@dataclass(frozen=True)
class _Phrase:
    """One thing the text asks to protect: columns (None: all personal data), and how."""

    action: str
    columns: list[str] | None
    noun: str | None = None


def read_protect(text: str, parsed: Parsed) -> None:
    """`transform.protect` rules, and the proposals for "protect personal data"."""
    for phrase in _phrases(text, parsed):
        if phrase.columns is None:
            _personal(phrase.action, parsed)
            continue
        for word in phrase.columns:
            for column in _columns(word, phrase, parsed) or []:
                _protect(column, phrase.action, parsed)


def protected_in(text: str) -> set[str]:
    """The column names a request asks to protect, in lower case, as written and as a noun
    after them may join them ("phone numbers": phone and phone_number), read without a
    profile."""
    parsed = Parsed(" ".join(text.split()))
    names: set[str] = set()
    for phrase in _phrases(parsed.text, parsed):
        for word in phrase.columns or []:
            names |= {name.lower() for name in _spellings(word.strip('"`'), phrase.noun)}
    return names


def _phrases(text: str, parsed: Parsed) -> Iterator[_Phrase]:
    """Each phrase that asks for protection, its words marked as read."""
    for match in _FIRST.finditer(text):
        if not parsed.free_at(match):
            continue
        action = next(name for name in _ACTIONS if match.group(name))
        if personal := re.match(_OWNER + _PERSONAL, text[match.end() :], re.IGNORECASE):
            parsed.use((match.start(), match.end() + personal.end()))
            yield _Phrase(action, None)
            continue
        # The list ends where another reader's words start ("and name the pipeline crm").
        stop = min((start for start, _ in parsed.used if start >= match.end()), default=None)
        items, used = take_list(text[match.end() : stop], _words(parsed))
        end = match.end() + used
        if not items or not parsed.is_free(match.start(), end):
            continue
        noun = _NOUN.match(text, end)
        parsed.use((match.start(), noun.end() if noun else end))
        yield _Phrase(action, items, noun.group("noun").lower() if noun else None)
    for match in _AFTER.finditer(text):
        if not parsed.free_at(match):
            continue
        parsed.use(match)
        action = next(
            name
            for name, words in _ACTIONS.items()
            if re.fullmatch(words, match.group("done"), re.IGNORECASE)
        )
        if re.fullmatch(_PERSONAL, match.group("cols"), re.IGNORECASE):
            yield _Phrase(action, None)
        else:
            items = [i for i in re.findall(IDENT, match.group("cols")) if i.lower() != "and"]
            yield _Phrase(action, items, (match.group("noun") or "").lower() or None)


def _personal(action: str, parsed: Parsed) -> None:
    """The proposed rules for every column the profile flags (one action for all, if said)."""
    if parsed.facts is None:
        parsed.ask(_NOT_PROFILED)
        return
    flagged = {name: column.protect for name, column in parsed.facts.items() if column.protect}
    if not flagged:
        known = ", ".join(list(parsed.facts)[:20])
        parsed.ask(
            f"The profile flags no column as personal data (the source has {known}): which "
            "should I protect, and how? Say 'hash email' (hash, mask, redact or drop)."
        )
        return
    parsed.proposed |= {
        name: rule if action == "protect" else action for name, rule in flagged.items()
    }


def _protect(column: str, action: str, parsed: Parsed) -> None:
    proposed = parsed.facts[column].protect if parsed.facts is not None else ""
    if action == "protect" and not proposed:
        parsed.ask(
            f"How should I protect {column}: hash, mask, redact or drop? Say 'hash {column}'."
        )
        return
    parsed.transform.setdefault("protect", {})[column] = proposed if action == "protect" else action


def _columns(word: str, phrase: _Phrase, parsed: Parsed) -> list[str] | None:
    """The columns a word names, checked against the profile when there is one: the column
    it spells ("phone numbers": `phone_number`, else `phone`), else those it points at
    (`_points_at`), flagged ones first; a plural ("the names") takes every flagged one.
    None (and a question) when it names none, or could name several."""
    word = word.strip('"`')
    if parsed.facts is None:
        return [word]
    known = {name.lower(): name for name in parsed.facts}
    spelt = [known[s.lower()] for s in _spellings(word, phrase.noun) if s.lower() in known]
    if spelt:
        return spelt[:1]
    lower = word.lower()
    singular = _singular(lower)
    pointed = [c for c in parsed.facts.values() if _points_at({lower, singular}, c)]
    flagged = [column.name for column in pointed if column.protect]
    candidates = flagged or [column.name for column in pointed]
    plural = singular != lower or phrase.noun in _PLURALS
    if len(candidates) == 1 or (flagged and plural):
        return candidates
    if not candidates:
        parsed.column(word, "protect")
        return None
    parsed.ask(
        f"protect: {word!r} could be {', '.join(candidates[:-1])} or {candidates[-1]}: which "
        f"one? Name it ('{phrase.action} {candidates[0]}')."
    )
    return None


def _points_at(words: set[str], column: Column) -> bool:
    """Whether a word (in its spellings) is a word of the column's name, or names the kind
    of personal data the column holds."""
    tokens = set(column.name.lower().split("_"))
    if words & tokens:
        return True
    kinds = [_KINDS[word] for word in words if word in _KINDS]
    return any(flag in column.pii or bool(column.protect and tokens & also) for flag, also in kinds)


def _singular(word: str) -> str:
    """A plural's singular ("names", "addresses"); other words as they are ("address")."""
    if word.endswith("sses"):
        return word[:-2]
    return word if word.endswith(("ss", "us", "is")) else word.removesuffix("s")


def _words(parsed: Parsed) -> set[str] | None:
    """The words that may name a column in a list ("first and last names"), with the
    profile: names, the words of names and kinds of personal data, also in the plural."""
    if parsed.facts is None:
        return None
    words = {*parsed.facts, *_KINDS}
    words |= {token for name in parsed.facts for token in name.lower().split("_") if token}
    return words | {f"{word}s" for word in words}


def _spellings(word: str, noun: str | None) -> list[str]:
    """The names a word may stand for, likeliest first."""
    tried = [word, word.removesuffix("s")]
    if noun in _JOINED:
        joined = f"{word}_{noun}"
        tried[:0] = [joined, joined.removesuffix("es" if joined.endswith("sses") else "s")]
    return tried
