"""`python -m agent.security PATH... [--lock FILE]`: the CI gate of docs/security.md.

Runs ruff's security rules on every Python file under the paths and pip-audit on the lock,
prints each finding the accepted list does not accept, and exits 1 when there is one. An
audit that could not reach a vulnerability service is printed as skipped, never as passed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.security.accepted import ACCEPTED_FILE, AcceptedListError, load_accepted
from agent.security.code import judge, scan_paths
from agent.security.deps import audit_lock


def main(argv: list[str] | None = None) -> int:
    """Run the checks; the exit status: 0 clean (or audit skipped), 1 a finding, 2 bad input."""
    parser = argparse.ArgumentParser(prog="python -m agent.security", description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path, help="Files or folders of Python code.")
    parser.add_argument("--lock", type=Path, help="A pinned requirements file to audit.")
    parser.add_argument("--accepted", type=Path, default=ACCEPTED_FILE)
    args = parser.parse_args(argv)
    try:
        accepted = load_accepted(args.accepted)
    except AcceptedListError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 2
    verdict = judge(scan_paths(args.paths, Path.cwd()), accepted)
    failed = bool(verdict.refused)
    for finding in verdict.refused:
        print(f"✗ {finding}")
    for note in verdict.notes:
        print(f"! {note}")
    print(
        f"code (ruff S) on {', '.join(map(str, args.paths))}: {len(verdict.refused)} refused, "
        f"{len(verdict.accepted)} accepted by {args.accepted}"
    )
    if args.lock:
        audit = audit_lock(args.lock, accepted)
        for vuln in audit.refused:
            print(f"✗ {vuln}")
        if audit.service is None:
            print(f"pip-audit {args.lock}: SKIPPED, NOT AUDITED: {audit.unaudited}")
        else:
            print(
                f"pip-audit {args.lock} ({audit.service}): {len(audit.refused)} refused, "
                f"{len(audit.accepted)} accepted"
                + (f"; INCOMPLETE: {audit.unaudited}" if audit.unaudited else "")
            )
            failed = failed or bool(audit.refused or audit.unaudited)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
