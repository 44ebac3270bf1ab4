"""The words of a request: keyword typos mended first, and, last, the words no reader placed.

A typo is mended only in a plain word (letters only) that is one edit (a transposition
counts as one) from exactly one keyword and is no column of the source: names are never
changed. A word that no reader placed and that carries no meaning of its own becomes a
question, so a clause the planner cannot read is never dropped in silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz.distance import DamerauLevenshtein

KEYWORDS = frozenset(
    """load append replace overwrite upsert merge refresh truncate reload daily hourly weekly
    monthly every minutes hours into where only rename retry retries dedupe deduplicate drop
    rows without missing keep duplicate duplicates schedule weekday weekdays table column
    columns filter between least most above below more less than email alert failure success
    monday tuesday wednesday thursday friday saturday sunday morning evening night midnight
    noon twice times unique primary incremental incrementally except excluding called named
    default should empty blank remove skip require required newest latest oldest first last
    manually demand insert update hour minute day week month night cast fill name call treat
    past quarter half once send mail page sync every each only just where whose""".split()  # noqa: SIM905
)

FILLER = frozenset(
    """a an the this that these those it its them their they this and also then please just
    i i'd i'm we you me my our your want would like need needs to should can could will shall
    be is are was were being been do does file files data dataset rows row records record
    entries entry lines items ones one each all any of from into in on at onto for with by
    as table tables so new load loads loaded loading put puts take takes copy copies import
    imports ingest ingests pull pulls bring get move send write push stream store save
    make set run runs running go goes let us lets sure which who whose there here keep
    stored source target but have has always got every after before once contents content
    everything everyday thing things stuff time instead actually rather now change switch ok
    okay oh wait sorry hmm read reads fetch extract export dump mirror replicate transfer
    upload ship""".split()  # noqa: SIM905
)
"""Words that carry no part of a pipeline by themselves."""

_PLAIN = re.compile(r"(?<![\w./@:$-])[A-Za-z]{4,}(?![\w/@-]|\.\w)")
_WORD = re.compile(r"(?<![\w./@:$-])(?:[A-Za-z_][\w']*|\d+(?:\.\d+)?)(?![\w/@-]|\.\w)")


def mend(text: str, names: Iterable[str]) -> str:
    """The text with each keyword typo ("Laod", "evrey", "dialy") written right."""
    keep = {name.lower() for name in names}

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if low in KEYWORDS or low in FILLER or low in keep:
            return word
        close = [k for k in KEYWORDS if DamerauLevenshtein.distance(low, k, score_cutoff=1) <= 1]
        if len(close) != 1 or (len(low) == 4 and sorted(low) != sorted(close[0])):
            return word  # a four-letter word is mended only for swapped letters
        return close[0]

    return _PLAIN.sub(fix, text)


def unplaced(text: str, used: list[tuple[int, int]], nouns: Iterable[str]) -> list[str]:
    """The words outside every read span that are neither filler nor the data's own nouns."""
    known = FILLER | {noun.lower() for noun in nouns}
    left = []
    for match in _WORD.finditer(text):
        start, end = match.span()
        if any(s <= start and end <= e for s, e in used):
            continue
        word = match.group(0).lower().removesuffix("'s")
        if word not in known and word.rstrip("s") not in known:
            left.append(match.group(0))
    return left


def nouns_of(*names: str) -> set[str]:
    """The words a file or table name gives its rows: data/users.json -> users, user."""
    found: set[str] = set()
    for name in names:
        for part in re.split(r"[^A-Za-z]+", name.rsplit("/", 1)[-1]):
            if len(part) > 2:
                found |= {part.lower(), part.lower().rstrip("s")}
    return found
