"""Rules of the layering that must never break."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import connectors

FORBIDDEN = ("agent", "langchain", "langchain_core", "langchain_openai", "jinja2", "typer", "rich")


def test_importing_connectors_pulls_in_no_design_time_package() -> None:
    modules = [m.name for m in pkgutil.walk_packages(connectors.__path__, "connectors.")]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert len(modules) > 10
    assert result.stdout.strip() == ""


def test_no_connectors_module_names_agent_or_jinja_in_its_imports() -> None:
    root = Path(connectors.__file__).parent
    offenders = [
        f"{path}: {name}"
        for path in root.rglob("*.py")
        for name in _imported(path)
        if name in FORBIDDEN
    ]
    assert offenders == []


def _imported(path: Path) -> list[str]:
    """The top-level package of every module a file imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module.split(".")[0])
    return found


def test_the_cli_is_the_only_module_that_imports_typer() -> None:
    """The import contracts in pyproject.toml cover the rest of the layering; this one needs
    "every module but the CLI's", which a contract cannot say."""
    root = Path(connectors.__file__).parents[1]
    cli = {
        root / "agent" / "cli" / f"{name}.py"
        for name in ("common", "pipelines", "authoring", "monitoring", "group")
    }
    files = [*(root / "agent").rglob("*.py"), *(root / "connectors").rglob("*.py")]
    offenders = [f for f in files if f not in cli and "typer" in _imported(f)]
    assert offenders == []
    assert all("typer" in _imported(f) for f in cli)
