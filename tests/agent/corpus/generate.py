"""Write the planner's corpus: requests built from templates, each with what it must give.

    python tests/agent/corpus/generate.py      # rewrites tests/agent/corpus/corpus.json

Templates x synonyms x word orders x clause orders x typos in non-name words, drawn with a
fixed seed. Each request carries the profile of its source (columns, types, sampled values,
as `dagsmith profile` would find them) and either the spec fields it must produce or the
word its question must hold. A fixed hash of the text puts it in the tune or the held-out
part. The templates were written from the issue's list of phrasings, before tuning.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from tests.agent.corpus.templates import (
    ALERTS,
    ASKS,
    CLEANING,
    DATE_ORDERS,
    FILTERS,
    FLAGS,
    FORMAT_ASKS,
    FORMAT_PROFILE,
    MODES,
    PROFILES,
    RETRIES,
    SCHEDULES,
    SEPARATORS,
    TARGETS,
    TWO_STREAMS,
    TYPO_WORDS,
    ZONES,
    Clause,
)

HERE = Path(__file__).parent
SEED = 1302
COUNT = 1400
FORMAT_COUNT = 160
"""Requests on the source whose values read two ways (drawn after the others, with a seed of
their own, so that adding them changed none of the earlier requests)."""
HELD_OUT_SHARE = 4
"""One request in four (by hash) is held out."""


def part(text: str) -> str:
    """The part a request belongs to: `held_out` for one text in four, by a fixed hash."""
    digest = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
    return "held_out" if digest % HELD_OUT_SHARE == 0 else "tune"


def _typo(text: str, rng: random.Random) -> str:
    words = [w for w in TYPO_WORDS if f" {w} " in f" {text} "]
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(1, len(word) - 2)
    wrong = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return f" {text} ".replace(f" {word} ", f" {wrong} ", 1).strip()


def _request(rng: random.Random) -> dict[str, Any]:
    name = rng.choice(sorted(PROFILES))
    profile = PROFILES[name]
    table = rng.choice(profile["tables"])
    lead, expected = rng.choice(TARGETS)(profile["file"], table)
    expected = {"table": table, "mode": "append", "schedule": None, "retries": 3, **expected}
    clauses: list[str] = []
    for pool, share in ((SCHEDULES, 0.6), (MODES, 0.4), (CLEANING, 0.5), (FILTERS, 0.4),
                        (CLEANING, 0.2), (RETRIES, 0.2), (ALERTS, 0.2)):  # fmt: skip
        if rng.random() < share:
            clause, fields = rng.choice(pool)(profile, rng)
            if _clashes({k: v for k, v in expected.items() if k != "retries"}, fields):
                continue
            clauses.append(clause)
            expected.update(fields)
    rng.shuffle(clauses)
    first = rng.random() < 0.25 and clauses
    text = _join([clauses.pop(0), lead] if first else [lead], clauses, rng)
    return {"text": text, "source": profile["file"], "expect": expected}


_NAMED = {"keys", "fill", "filter", "select", "dedupe", "required"}


def _clashes(expected: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Two clauses set one field, or a rename meets a rule that names a column."""
    if any(k in expected and k not in ("mode", "schedule") for k in fields):
        return True
    renamed = "rename" in fields or "rename" in expected
    selected = "select" in fields or "select" in expected
    others = (_NAMED | {"rename"}) & (set(fields) | set(expected))
    return (renamed and len(others) > 1) or (selected and "required" in others)


def _join(head: list[str], clauses: list[str], rng: random.Random) -> str:
    if len(head) == 2:
        head = [f"{head[0].capitalize()}, {head[1]}"]
    parts = [*head, *clauses]
    text = parts[0]
    for clause in parts[1:]:
        text += rng.choice([", ", ", and ", " and ", "; ", ". "]) + clause
    return text + rng.choice(["", ".", ""])


def _ask(rng: random.Random) -> dict[str, Any]:
    profile = PROFILES[rng.choice(sorted(PROFILES))]
    text, word = rng.choice(ASKS)(profile, rng)
    return {"text": text, "source": profile["file"], "ask": word}


def _two(rng: random.Random) -> dict[str, Any]:
    text, sources, expected = rng.choice(TWO_STREAMS)(rng)
    return {"text": text, "sources": sources, "expect": expected}


def generate() -> list[dict[str, Any]]:
    """The corpus, the same on every run."""
    rng = random.Random(SEED)
    cases: dict[str, dict[str, Any]] = {}
    while len(cases) < COUNT:
        roll = rng.random()
        case = _ask(rng) if roll < 0.2 else _two(rng) if roll < 0.27 else _request(rng)
        if rng.random() < 0.3:
            case["text"] = _typo(case["text"], rng)
        cases.setdefault(case["text"], {**case, "part": part(case["text"])})
    return list(cases.values())


def _formats(rng: random.Random) -> dict[str, Any]:
    """A request on FORMAT_PROFILE: both readings said (types expected), or one left open."""
    profile = FORMAT_PROFILE
    table = rng.choice(profile["tables"])
    lead, _ = rng.choice(TARGETS)(profile["file"], table)
    pools: list[list[Clause]]
    if rng.random() < 0.25:
        pools, ask = rng.choice(FORMAT_ASKS)
    else:
        pools, ask = [DATE_ORDERS, SEPARATORS], ""
        pools += [pool for pool in (FLAGS, ZONES) if rng.random() < 0.4]
    clauses: list[str] = []
    types: dict[str, Any] = {}
    for pool in pools:
        clause, typed = rng.choice(pool)(profile, rng)
        clauses.append(clause)
        types |= typed
    if rng.random() < 0.4:
        clause, fields = rng.choice(SCHEDULES)(profile, rng)
        clauses.append(clause)
    else:
        fields = {}
    rng.shuffle(clauses)
    text = _join([lead], clauses, rng)
    if ask:
        return {"text": text, "source": profile["file"], "ask": ask}
    expected = {"table": table, "mode": "append", "schedule": None, "retries": 3, **fields}
    return {"text": text, "source": profile["file"], "expect": {**expected, "types": types}}


def format_cases() -> list[dict[str, Any]]:
    """The requests on the source whose values read two ways, the same on every run."""
    rng = random.Random(SEED + 1)
    cases: dict[str, dict[str, Any]] = {}
    while len(cases) < FORMAT_COUNT:
        case = _formats(rng)
        cases.setdefault(case["text"], {**case, "part": part(case["text"])})
    return list(cases.values())


def main() -> None:
    """Rewrite corpus.json (with the profiles the requests use)."""
    profiles = {p["file"]: p["columns"] for p in (*PROFILES.values(), FORMAT_PROFILE)}
    document = {"profiles": profiles, "cases": generate() + format_cases()}
    (HERE / "corpus.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
