"""The Dockerfile's install step, run here as the same pip command (resolve only) in a fresh
virtual environment, against a copy of exactly what the Dockerfile copies."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import connectors
from tests.deploy.conftest import ROOT

pytestmark = pytest.mark.slow


def instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, comments and blanks dropped."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return [
        (line.split(None, 1)[0], line.split(None, 1)[1])
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


def copy_build_inputs(into: Path) -> None:
    """Do each COPY of the Dockerfile, with `into` standing for the image's root."""
    for name, args in instructions():
        if name != "COPY":
            continue
        *sources, target = [a for a in shlex.split(args) if not a.startswith("--")]
        destination = into / target.lstrip("/")
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, destination)


def pip_install_args(image_root: Path) -> list[str]:
    """The arguments of the Dockerfile's `pip install`, its ARGs and paths substituted."""
    args = dict(
        re.findall(r"^ARG (\w+)=(\S+)$", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    )
    (run,) = [a for name, a in instructions() if name == "RUN" and a.startswith("pip install")]
    words = shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], run))
    return [str(image_root / w.lstrip("/")) if w.startswith("/opt/") else w for w in words[2:]]


# pip downloads each wheel to read its metadata (the registry mirror serves none apart):
# minutes on a busy machine, beyond the suite's default limit.
@pytest.mark.timeout(900)
def test_the_dockerfile_install_step_resolves(tmp_path: Path) -> None:
    image_root = tmp_path / "image"
    copy_build_inputs(image_root)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    report = tmp_path / "report.json"
    command = [str(venv / "bin" / "python"), "-m", "pip", "install", "--dry-run", "--quiet"]
    command += ["--report", str(report), *pip_install_args(image_root)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = {
        item["metadata"]["name"]: item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    airflow = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert airflow
    assert resolved["apache-airflow"] == airflow.group(1)
    assert resolved["dagsmith"] == connectors.__version__
    # The run-time package only: the agent extra's LangChain and Jinja-based tools stay out.
    assert "langchain" not in resolved
    assert "prometheus_client" in resolved or "prometheus-client" in resolved
