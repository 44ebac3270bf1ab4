"""A small, hostile project for the report tests: markup in a column name, in values and in a
reject reason, and a protected (hashed) e-mail column whose clear values must show nowhere."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

KEY = "report-test-key-0123456789"
PEOPLE = """id,<b>Name</b>,email,amount,note
1,Ann,ann@example.com,10.5,ok
2,<script>alert(1)</script>,bob@example.org,-3,negative
<script>x</script>,Cy,cy@example.net,4,bad id
4,,dee@example.com,7,no name
5,Eve,eve@example.com,2,<img src=x onerror=alert(2)>
"""
CLEAR = ["ann@example.com", "bob@example.org", "cy@example.net", "dee@example.com"]
"""Protected values: rows 2 to 4 are rejected, so their (hashed) e-mails are in the report."""


def spec_yaml(pipeline: str, table: str, target: str | None = None, extra: str = "") -> str:
    """A one-stream spec reading `people.csv` beside it."""
    target_line = f"target: {target}" if target else ""
    return f"""
pipeline: {pipeline}
{target_line}
retries: {{count: 0}}
streams:
  - name: people
    source: {{kind: csv, path: people.csv}}
    transform:
      rename: {{"<b>Name</b>": name}}
      types: {{id: bigint, amount: "decimal(8,2)"}}
      required: [name]
      ranges: {{amount: {{min: 0}}}}
      protect: {{email: hash}}{extra}
    load: {{table: {table}}}
"""


def write_project(folder: Path, pipeline: str, table: str, **options: str) -> Path:
    """`people.csv` and `people.yaml` in `folder`; returns the spec's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.csv").write_text(PEOPLE, encoding="utf-8")
    path = folder / "people.yaml"
    path.write_text(spec_yaml(pipeline, table, **options), encoding="utf-8")
    return path


def key_setting() -> str:
    """`AIRFLOW_CONN_PII_KEY`: the connection whose password keys the hash."""
    return json.dumps({"conn_type": "generic", "password": KEY})


def digest(value: str) -> str:
    """What `hash` makes of a value."""
    return hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
