"""What the wheel ships: typed packages and one version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import connectors

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_python_package_shipped_says_it_is_typed() -> None:
    shipped = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    # templates/ is a package only so that importlib finds its files: no code to type.
    packages = [name for name in shipped if _has_code(ROOT / name)]
    assert sorted(packages) == ["agent", "connectors"]
    assert [name for name in packages if not (ROOT / name / "py.typed").exists()] == []


def _has_code(folder: Path) -> bool:
    return any(path.name != "__init__.py" for path in folder.rglob("*.py"))


def test_the_version_is_written_once_and_the_build_reads_it() -> None:
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    source = ROOT / PYPROJECT["tool"]["hatch"]["version"]["path"]
    assert source == Path(connectors.__file__)
    assert re.fullmatch(r"\d+\.\d+\.\d+", connectors.__version__)
