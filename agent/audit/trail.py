"""An append-only, hash-chained JSON Lines file of what the agent did.

Each record carries `prev`, the hash of the record before it (64 zeros for the first), and
`hash`, the SHA-256 of its own canonical JSON without `hash`. Editing a record changes its
hash; removing one breaks the next record's `prev`. Removing records at the end leaves a
valid shorter chain: a hash quoted elsewhere (a pull request's body) shows it.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AUDIT_FILE = Path(".dagsmith") / "audit.jsonl"
GENESIS = "0" * 64


def trail_path(project_dir: Path) -> Path:
    """Where a project's audit trail lives."""
    return project_dir / AUDIT_FILE


def record_hash(record: dict[str, Any]) -> str:
    """The SHA-256 of a record's canonical JSON, its own `hash` left out."""
    body = {key: value for key, value in record.items() if key != "hash"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(path: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Append one record (with time, `prev` and `hash` added) and return it.

    The file is locked while the last hash is read and the line written, so two commands
    writing at once still leave one chain.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        prev = GENESIS
        for line in handle:
            if line.strip():
                prev = str(json.loads(line).get("hash", ""))
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
        record["prev"] = prev
        record["hash"] = record_hash(record)
        handle.seek(0, 2)
        handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        handle.flush()
    return record


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The records, oldest first; a line that is not JSON is an error naming it."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not a JSON record ({exc.msg})") from None


@dataclass(frozen=True)
class Verification:
    """What `--verify` found: the records read and the first break of the chain."""

    records: int
    problems: list[str]


def verify(path: Path) -> Verification:
    """Check every record's hash and its link to the one before."""
    problems: list[str] = []
    prev = GENESIS
    count = 0
    try:
        for count, record in enumerate(read(path), 1):
            if record_hash(record) != record.get("hash"):
                problems.append(
                    f"record {count} ({record.get('time')}): edited after it was written"
                )
            if record.get("prev") != prev:
                problems.append(
                    f"record {count} ({record.get('time')}): the record before it was removed "
                    "or edited (its link does not match)"
                )
            prev = str(record.get("hash"))
    except ValueError as exc:
        problems.append(str(exc))
    return Verification(count, problems)


def who() -> str:
    """The person at the keyboard: git's user.name <user.email>, else the OS login."""
    values = []
    for key in ("user.name", "user.email"):
        try:
            # A fixed argument list, never a shell; git is the user's own tool.
            done = subprocess.run(  # noqa: S603
                ["git", "config", "--get", key],  # noqa: S607
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
            values.append(done.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            values.append("")
    name, email = values
    if name or email:
        return f"{name} <{email}>".strip() if email else name
    return getpass.getuser()
