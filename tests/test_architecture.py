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
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
