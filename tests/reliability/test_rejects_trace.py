"""Every reject names its 1-based source data row and holds the row as the source gave it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import duckdb

from tests.conftest import Cli


def run(dagsmith: Cli, folder: Path, spec: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`dagsmith run` of a spec written to `folder`, in that folder (embedded target)."""
    (folder / "p.yaml").write_text(spec)
    return dagsmith(
        "run", "p.yaml", "--json", *extra, cwd=folder, env={"DAGSMITH_LOG_FORMAT": "text"}
    )


def rejects(folder: Path, table: str) -> list[tuple[int | None, str, dict[str, Any]]]:
    """(row_number, rule, raw) of every reject, in row order."""
    warehouse = folder / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        found = conn.execute(f"SELECT row_number, rule, raw FROM {table}__rejects").fetchall()
    return sorted((n, rule, json.loads(raw)) for n, rule, raw in found)


SPEC = """pipeline: trace
streams:
  - name: s
    source: {kind: csv, path: d.csv, ragged: reject}
    transform:
      rename: {ID: id}
      types: {id: bigint, amount: float}
      ranges: {amount: {min: 0}}
    load: {table: t, mode: upsert, keys: [id]}
"""


def test_every_rule_numbers_data_rows_and_keeps_the_source_row(
    tmp_path: Path, dagsmith: Cli
) -> None:
    (tmp_path / "d.csv").write_text('ID,amount\n1,"1\n.5"\n2,3,extra\n,4\nx,5\n5,-1\n6\n7, 8\n')
    result = run(dagsmith, tmp_path, SPEC)
    assert result.returncode == 0, result.stderr
    stream = json.loads(result.stdout)["streams"][0]
    assert (stream["rows_read"], stream["rows_loaded"]) == (7, 1)
    assert rejects(tmp_path, "t") == [
        (1, "type", {"ID": "1", "amount": "1\n.5"}),
        (2, "ragged", {"ID": "2", "amount": "3", "_extra": ["extra"]}),
        (3, "key", {"ID": None, "amount": "4"}),
        (4, "type", {"ID": "x", "amount": "5"}),
        (5, "range", {"ID": "5", "amount": "-1"}),
        (6, "ragged", {"ID": "6"}),
    ]


def test_an_empty_file_says_it_is_empty(tmp_path: Path, dagsmith: Cli) -> None:
    (tmp_path / "d.csv").write_text("")
    result = run(dagsmith, tmp_path, SPEC)
    assert result.returncode == 1
    error = json.loads(result.stdout)["streams"][0]["error"]
    assert "the source is empty" in error and "available columns" not in error
