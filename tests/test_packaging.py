"""What a wheel of dagsmith holds: the DAG templates as package data of `agent`, no
top-level `templates` package, and a build that renders DAGs from them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RENDER = """
from pathlib import Path
from agent.dags.render import environment, render
from connectors.spec import parse_spec
spec = parse_spec('''
pipeline: packaged
streams:
  - name: orders
    source: {kind: csv, path: data/orders.csv}
    load: {table: raw.orders, mode: append}
''')
print(environment().get_template("dag.py.j2").filename)
print(render(spec, Path("pipelines/packaged.yaml"), Path("dags")).text.count("packaged"))
"""


def _wheel(out: Path) -> Path:
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--wheel-dir", str(out), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    return next(out.glob("dagsmith-*.whl"))


def test_the_wheel_ships_the_templates_inside_agent_and_renders_from_them(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "site")
    assert {"agent/templates/dag.py.j2", "agent/templates/stream_tasks.py.j2"} <= set(names)
    assert [name for name in names if name.startswith("templates/")] == []
    assert "connectors/py.typed" in names

    # The unpacked wheel comes first on the path: its agent, not the checkout's.
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run(
        [sys.executable, "-c", RENDER],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    template, mentions = done.stdout.split()
    assert template == str(tmp_path / "site" / "agent" / "templates" / "dag.py.j2")
    assert int(mentions) > 0
