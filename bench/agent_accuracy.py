"""The offline planner's accuracy on the generated corpus, per part (tune, held-out).

    python bench/agent_accuracy.py [--misses tune]

Each request is planned as the offline agent plans it: once, then again with the profiles
of the sources it names. Prints, per part: exact spec, right question, question where a
spec was due (missed), wrong spec (a spec that is not the expected one, or a spec where a
question was due, or the wrong question), and the planning time. `--misses tune` lists the
tune part's misses (the held-out part is reported only in aggregate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.agent.corpus.score import score


def main() -> None:
    """Print the table; exit 1 when any part has a wrong spec."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", choices=["tune"], help="list the misses of the tune part")
    args = parser.parse_args()
    print(f"{'part':<9} {'cases':>5} {'exact spec':>11} {'right question':>15} "
          f"{'missed':>7} {'wrong spec':>11} {'ms/request':>11}")  # fmt: skip
    wrong = 0
    for part in ("tune", "held_out"):
        result = score(part)
        n = max(result.cases, 1)
        bad = result.outcomes["wrong"] + result.outcomes["wrong_question"]
        wrong += bad
        print(
            f"{part:<9} {result.cases:>5} {result.outcomes['exact'] / n:>11.1%} "
            f"{result.outcomes['asked'] / n:>15.1%} {result.outcomes['missed'] / n:>7.1%} "
            f"{bad:>11} {1000 * result.seconds / n:>11.2f}"
        )
        if args.misses == part:
            for text, expected, got in result.misses:
                print(f"  {text}\n    expected {expected}\n    got      {got}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
