"""The reviewed list of accepted security findings (`security/accepted.toml`).

Each entry names what it accepts and why: a code rule in a path (a glob), at most `count`
times when given, or a known vulnerability of one package. A finding no entry accepts fails
the check; a malformed entry is an error naming its place in the file.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.errors import TerminalError

ACCEPTED_FILE = Path("security/accepted.toml")


class AcceptedListError(TerminalError):
    """The accepted list cannot be read, or one of its entries is incomplete."""


@dataclass(frozen=True)
class CodeEntry:
    """Findings of `rule` in files matching `path`, at most `count` of them (None: any)."""

    rule: str
    path: str
    reason: str
    count: int | None = None

    def matches(self, rule: str, path: str) -> bool:
        """Whether a finding of `rule` in `path` (relative, POSIX) is of this entry."""
        return rule == self.rule and fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True)
class VulnerabilityEntry:
    """A known vulnerability (`id`, or one of its aliases) of `package`, accepted."""

    id: str
    package: str
    reason: str


@dataclass(frozen=True)
class Accepted:
    """The whole list."""

    code: tuple[CodeEntry, ...] = ()
    vulnerabilities: tuple[VulnerabilityEntry, ...] = ()


def load_accepted(path: Path = ACCEPTED_FILE) -> Accepted:
    """Read the accepted list; an absent file accepts nothing."""
    if not path.is_file():
        return Accepted()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AcceptedListError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"code", "vulnerability"})
    if unknown:
        raise AcceptedListError(
            f"{path}: unknown tables {unknown}; use [[code]] or [[vulnerability]]"
        )
    code = tuple(
        CodeEntry(**_fields(path, "code", i, item, ("rule", "path", "reason"), ("count",)))
        for i, item in enumerate(data.get("code", []))
    )
    vulns = tuple(
        VulnerabilityEntry(
            **_fields(path, "vulnerability", i, item, ("id", "package", "reason"), ())
        )
        for i, item in enumerate(data.get("vulnerability", []))
    )
    return Accepted(code, vulns)


def _fields(
    path: Path,
    table: str,
    index: int,
    item: dict[str, Any],
    required: tuple[str, ...],
    optional: tuple[str, ...],
) -> dict[str, Any]:
    where = f"{path}: [[{table}]] entry {index + 1}"
    missing = [name for name in required if not str(item.get(name, "")).strip()]
    if missing:
        raise AcceptedListError(f"{where}: missing {', '.join(missing)} (every entry says why)")
    extra = sorted(set(item) - set(required) - set(optional))
    if extra:
        raise AcceptedListError(f"{where}: unknown keys {extra}")
    count = item.get("count")
    if "count" in item and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise AcceptedListError(f"{where}: count must be a positive integer")
    return {name: item[name] for name in (*required, *optional) if name in item}
