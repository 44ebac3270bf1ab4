"""pip-audit on the lock file: known vulnerabilities of the pinned packages.

pip-audit asks a vulnerability service about every pin. When the service cannot be reached
it either fails with a connection error (OSV) or marks every package as "not found" and
still says "No known vulnerabilities found" (PyPI's JSON API behind a proxy that does not
serve it): both are reported here as *not audited*, never as a pass. Each service is first
asked about one pin, with a short timeout, so an unreachable one costs a second, not a
pip-audit run of every pin.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from agent.security.accepted import Accepted, VulnerabilityEntry

SERVICES = ("pypi", "osv")
_TIMEOUT_S = 600
_PROBE_TIMEOUT_S = 5
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


@dataclass(frozen=True)
class Vulnerability:
    """One known vulnerability of one pinned package."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]

    def __str__(self) -> str:
        fix = f"; fixed in {', '.join(self.fix_versions)}" if self.fix_versions else ""
        return f"{self.package} {self.version}: {self.id}{fix}"


@dataclass
class DepsAudit:
    """What the audit found; `unaudited` explains a run that could not audit every pin."""

    service: str | None = None
    refused: list[Vulnerability] = field(default_factory=list)
    accepted: list[tuple[Vulnerability, VulnerabilityEntry]] = field(default_factory=list)
    unaudited: str | None = None


def audit_lock(lock: Path, accepted: Accepted) -> DepsAudit:
    """Audit `lock` with the first service that answers; `unaudited` set when none does."""
    reasons: list[str] = []
    pin = _first_pin(lock)
    for service in SERVICES:
        problem = _probe(service, *pin) if pin else None
        if problem is not None:
            reasons.append(f"{service}: {problem}")
            continue
        report, problem = _pip_audit(lock, service)
        audit = judge_report(report, accepted, service) if report is not None else None
        if audit is not None and audit.service is not None:
            return audit
        reasons.append(f"{service}: {audit.unaudited if audit else problem}")
    return DepsAudit(unaudited="; ".join(reasons))


def _first_pin(lock: Path) -> tuple[str, str] | None:
    found = _PIN.search(lock.read_text(encoding="utf-8"))
    return (found[1], found[2]) if found else None


def _probe(service: str, package: str, version: str) -> str | None:
    """Why `service` cannot answer pip-audit's question about one pin, or None when it can.

    The same request pip-audit makes (and through the same proxy settings), so a service that
    answers here is then asked about every pin.
    """
    try:
        if service == "pypi":
            url = f"https://pypi.org/pypi/{package}/{version}/json"
            response = requests.get(url, timeout=_PROBE_TIMEOUT_S)
        else:
            query = {"package": {"name": package, "ecosystem": "PyPI"}, "version": version}
            url = "https://api.osv.dev/v1/query"
            response = requests.post(url, json=query, timeout=_PROBE_TIMEOUT_S)
        if response.status_code != 200:
            return f"{url} answered HTTP {response.status_code}"
        response.json()
    except (requests.RequestException, ValueError) as exc:
        # The class only: a connection error's text may hold a proxy URL with its password.
        return f"no answer from {url} ({type(exc).__name__})"
    return None


def _pip_audit(lock: Path, service: str) -> tuple[dict[str, Any] | None, str]:
    command = [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--no-deps",
               "--disable-pip", "--vulnerability-service", service, "--format", "json",
               "--progress-spinner", "off"]  # fmt: skip
    try:
        # An argument list, never a shell: this interpreter's pip-audit on a file we name.
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer within {_TIMEOUT_S} s"
    try:
        return json.loads(done.stdout), ""
    except json.JSONDecodeError:
        last = done.stderr.strip().splitlines()[-1:] or ["pip-audit printed no report"]
        return None, last[0][:300]


def judge_report(report: dict[str, Any], accepted: Accepted, service: str) -> DepsAudit:
    """pip-audit's JSON report, judged against the accepted list.

    A report whose every package was skipped is no audit (`service` None): the service
    did not answer for any of them.
    """
    skipped = [str(d["name"]) for d in report["dependencies"] if "skip_reason" in d]
    if report["dependencies"] and len(skipped) == len(report["dependencies"]):
        return DepsAudit(unaudited="no package could be looked up (service unreachable)")
    audit = DepsAudit(service=service)
    if skipped:
        audit.unaudited = f"{len(skipped)} packages could not be looked up: {', '.join(skipped)}"
    for dependency in report["dependencies"]:
        for vuln in dependency.get("vulns", []):
            found = Vulnerability(
                str(dependency["name"]),
                str(dependency.get("version", "?")),
                vuln["id"],
                tuple(vuln.get("aliases", ())),
                tuple(vuln.get("fix_versions", ())),
            )
            ids = {found.id, *found.aliases}
            entry = next(
                (
                    e
                    for e in accepted.vulnerabilities
                    if e.id in ids and _canonical(e.package) == _canonical(found.package)
                ),
                None,
            )
            if entry is None:
                audit.refused.append(found)
            else:
                audit.accepted.append((found, entry))
    return audit


def _canonical(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()
