"""Score the planner on the corpus: each request planned as the offline agent plans it."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.planner import Column, Facts, plan
from connectors.spec.io import to_plain

CORPUS = Path(__file__).with_name("corpus.json")


@dataclass
class Score:
    """How one part of the corpus went."""

    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    misses: list[tuple[str, Any, Any]] = field(default_factory=list)


def load() -> tuple[dict[str, Facts], list[dict[str, Any]]]:
    """The profiles (as planner facts) and the cases of the corpus."""
    document = json.loads(CORPUS.read_text(encoding="utf-8"))
    profiles = {
        source: {c["name"]: _column(c) for c in columns}
        for source, columns in document["profiles"].items()
    }
    return profiles, document["cases"]


def _column(found: dict[str, Any]) -> Column:
    return Column(found["name"], found["type"], tuple(found["values"]),
                  format=found.get("format", {}), readings=found.get("readings", {}))  # fmt: skip


def fields(spec: dict[str, Any]) -> dict[str, Any]:
    """The fields of a spec that the corpus states, in the corpus's shape."""
    streams = spec["streams"]
    load, transform = streams[0]["load"], streams[0].get("transform", {})
    found: dict[str, Any] = {
        "table": load["table"],
        "mode": load.get("mode", "append"),
        "schedule": spec.get("schedule"),
    }
    if len(streams) > 1:
        found = {"streams": len(streams), "tables": [s["load"]["table"] for s in streams],
                 "schedule": spec.get("schedule")}  # fmt: skip
    found |= {k: v for k, v in (("keys", load.get("keys")),) if v}
    found |= {k: transform[k] for k in ("required", "fill", "rename", "select", "filter")
              if k in transform and k != "types"}  # fmt: skip
    formatted = {c: t for c, t in transform.get("types", {}).items() if isinstance(t, dict)}
    if formatted:  # types with a format: what a request said of how values are written
        found["types"] = formatted
    if "dedupe" in transform:
        found["dedupe"] = transform["dedupe"]
    found["retries"] = spec.get("retries", {}).get("count", 3)
    if "alerts" in spec:
        found["alerts"] = [a["email"] for a in spec["alerts"].get("on_failure", []) if "email" in a]
    return found


def outcome(case: dict[str, Any], profiles: dict[str, Facts]) -> tuple[str, Any]:
    """`exact`, `asked` (right question), `missed` (a question where a spec was due),
    `wrong_question` or `wrong` (a spec that is not the expected one), and what came out."""
    first = plan(case["text"])
    known = {
        s["source"]: profiles[s["source"]] for s in first.sources if s.get("source") in profiles
    }
    planned = plan(case["text"], None, known)
    if planned.spec is None:
        said = " ".join(planned.questions)
        if "ask" in case:
            return ("asked" if case["ask"] in said.lower() else "wrong_question"), said
        return "missed", said
    got = fields(to_plain(planned.spec))
    if "ask" in case:
        return "wrong", got
    return ("exact" if got == case["expect"] else "wrong"), got


def score(part: str) -> Score:
    """Plan every case of one part (`tune` or `held_out`)."""
    profiles, cases = load()
    result = Score()
    for case in cases:
        if case["part"] != part:
            continue
        start = time.perf_counter()
        kind, got = outcome(case, profiles)
        result.seconds += time.perf_counter() - start
        result.cases += 1
        result.outcomes[kind] += 1
        if kind not in ("exact", "asked"):
            result.misses.append((case["text"], case.get("expect", case.get("ask")), got))
    return result
