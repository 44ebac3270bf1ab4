"""The security gate of .ci/run: ruff's security rules against the reviewed accepted list,
and pip-audit reported as skipped, never as passed, when no service answers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agent.security.__main__ import main
from agent.security.accepted import AcceptedListError, load_accepted
from agent.security.code import judge, scan_paths
from agent.security.deps import audit_lock, judge_report

ROOT = Path(__file__).resolve().parents[2]
DANGER = "import subprocess\n\n\ndef go(cmd: str) -> None:\n    subprocess.call(cmd, shell=True)\n"


def project(tmp_path: Path, accepted: str = "", code: str = DANGER) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "tool.py").write_text(code)
    (tmp_path / "accepted.toml").write_text(accepted)
    return tmp_path


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.chdir(root)
    return main(["pkg", "--accepted", "accepted.toml", *args])


def test_the_projects_own_code_passes_with_its_reviewed_list() -> None:
    accepted = load_accepted(ROOT / "security" / "accepted.toml")
    verdict = judge(scan_paths([ROOT / "agent", ROOT / "connectors"], ROOT), accepted)
    assert verdict.refused == [], "\n".join(map(str, verdict.refused))
    assert all(entry.reason.strip() for entry in accepted.code)


def test_a_dangerous_call_fails_with_its_place_and_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project(tmp_path), monkeypatch) == 1
    out = capsys.readouterr().out
    assert "✗ pkg/tool.py:5: S602 `subprocess` call with `shell=True`" in out
    assert "1 refused, 0 accepted" in out


def test_an_entry_with_a_reason_accepts_up_to_its_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = """
[[code]]
rule = "S602"
path = "pkg/*"
count = 1
reason = "a test"
"""
    root = project(tmp_path, entries)
    assert run(root, monkeypatch) == 0
    assert "0 refused, 1 accepted" in capsys.readouterr().out
    (root / "pkg" / "more.py").write_text(DANGER)
    assert run(root, monkeypatch) == 1
    out = capsys.readouterr().out
    assert "S602 in pkg/*: 2 findings, 1 accepted: review the new ones" in out


def test_a_noqa_with_its_reason_accepts_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = DANGER.replace("shell=True)", "shell=True)  # noqa: S602 - a fixed command")
    assert run(project(tmp_path, code=code), monkeypatch) == 0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('[[code]]\nrule = "S602"\npath = "pkg/*"\n', r"entry 1: missing reason"),
        ('[[code]]\nrule = "S602"\npath = "x"\nreason = "r"\ncount = 0\n', "positive integer"),
        ('[[code]]\nrule = "S602"\npath = "x"\nreason = "r"\nline = 3\n', "unknown keys"),
        ('[[vulnerability]]\nid = "GHSA-1"\nreason = "r"\n', "missing package"),
        ("[[codes]]\n", "unknown tables"),
    ],
)
def test_an_incomplete_entry_is_an_error_naming_it(
    tmp_path: Path, entry: str, message: str
) -> None:
    (tmp_path / "accepted.toml").write_text(entry)
    with pytest.raises(AcceptedListError, match=message):
        load_accepted(tmp_path / "accepted.toml")


def test_known_vulnerabilities_are_refused_unless_accepted_by_id_or_alias(tmp_path: Path) -> None:
    report = {
        "dependencies": [
            {"name": "idna", "version": "3.6", "vulns": [
                {"id": "PYSEC-2024-60", "aliases": ["CVE-2024-3651"], "fix_versions": ["3.7"]}
            ]},
            {"name": "Jinja2", "version": "3.1.3", "vulns": [
                {"id": "GHSA-h75v-3vvj-5mfj", "aliases": [], "fix_versions": ["3.1.4"]}
            ]},
            {"name": "zipp", "version": "3.0", "vulns": []},
        ]
    }  # fmt: skip
    accepted = load_accepted(Path("/nonexistent"))
    audit = judge_report(report, accepted, "osv")
    assert [str(v) for v in audit.refused] == [
        "idna 3.6: PYSEC-2024-60; fixed in 3.7",
        "Jinja2 3.1.3: GHSA-h75v-3vvj-5mfj; fixed in 3.1.4",
    ]
    toml = tmp_path / "accepted.toml"
    toml.write_text('[[vulnerability]]\nid = "CVE-2024-3651"\npackage = "IDNA"\nreason = "r"\n')
    audit = judge_report(report, load_accepted(toml), "osv")
    assert [v.package for v in audit.refused] == ["Jinja2"]
    assert [v.id for v, _ in audit.accepted] == ["PYSEC-2024-60"]


def test_a_report_where_no_package_was_looked_up_is_no_audit() -> None:
    # What pip-audit answers, exit 0 and "No known vulnerabilities found", when PyPI's JSON
    # API is out of reach for every package (measured here through the registry proxy).
    skipped = {"skip_reason": "Dependency not found on PyPI and could not be audited"}
    report = {"dependencies": [{"name": "idna", **skipped}, {"name": "zipp", **skipped}]}
    audit = judge_report(report, load_accepted(Path("/nonexistent")), "pypi")
    assert audit.service is None
    assert audit.unaudited == "no package could be looked up (service unreachable)"
    partial = judge_report(
        {
            "dependencies": [
                {"name": "idna", **skipped},
                {"name": "zipp", "version": "3", "vulns": []},
            ]
        },
        load_accepted(Path("/nonexistent")),
        "pypi",
    )
    assert partial.service == "pypi"
    assert partial.unaudited == "1 packages could not be looked up: idna"


def test_an_unreachable_service_is_reported_as_skipped_never_as_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on, as the proxy
        sock.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    root = project(tmp_path, code="x = 1\n")
    (root / "requirements.lock").write_text("idna==3.10\n")
    audit = audit_lock(root / "requirements.lock", load_accepted(Path("/nonexistent")))
    assert audit.service is None
    assert "pypi:" in (audit.unaudited or "")
    assert "osv:" in (audit.unaudited or "")
    assert run(root, monkeypatch, "--lock", "requirements.lock") == 0
    out = capsys.readouterr().out
    assert "pip-audit requirements.lock: SKIPPED, NOT AUDITED: pypi:" in out
    assert "no known vulnerabilities" not in out.lower()
