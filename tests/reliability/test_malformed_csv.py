"""Malformed CSV under every `ragged` policy: a clean error or the documented rows, never a
traceback. Hypothesis writes the files; `dagsmith run` reads them, in this process (typer's
runner: a process per example cost seconds each), and as a process in the tests after it."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from agent.cli.app import app
from tests.conftest import Cli

MODES = ("error", "reject", "pad")
SPEC = "pipeline: malformed\nstreams:\n" + "".join(
    f"  - name: {mode}\n"
    f"    source: {{kind: csv, path: m.csv, ragged: {mode}}}\n"
    f"    load: {{table: t_{mode}}}\n"
    for mode in MODES
)
_CELL = st.sampled_from(["1", "a b", '"q,1"', '"x""y"', "", '"multi\nline"', "é"])
_FAULT = st.sampled_from(
    ['"', '"open', 'a"b', ",", ",,,,", "\r", "\x00", '""""', '"\n', "\\", "\ufeff", "\t"]
)


@st.composite
def malformed(draw: st.DrawFn) -> bytes:
    """A CSV of 2 to 4 columns with faults spliced into some cells and rows."""
    width = draw(st.integers(2, 4))
    rows = [
        [draw(_CELL) for _ in range(draw(st.integers(1, width + 1)))]
        for _ in range(draw(st.integers(0, 6)))
    ]
    header = [f"c{i}" for i in range(width)]
    if draw(st.booleans()):
        header[0] = '"c\n0"'
    lines = [",".join(header)] + [",".join(row) for row in rows]
    for _ in range(draw(st.integers(1, 3))):
        line = draw(st.integers(0, len(lines) - 1))
        cut = draw(st.integers(0, len(lines[line])))
        lines[line] = lines[line][:cut] + draw(_FAULT) + lines[line][cut:]
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    data = text.encode("utf-8")
    return data + b"\xff" if draw(st.integers(0, 9)) == 0 else data


@settings(max_examples=20, deadline=None)
@given(malformed())
def test_malformed_csv_ends_in_a_clean_error_or_documented_rows(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        Path("m.csv").write_bytes(data)
        Path("p.yaml").write_text(SPEC)
        result = CliRunner().invoke(
            app, ["run", "p.yaml", "--json"], env={"DAGSMITH_LOG_FORMAT": "text"}
        )
    output = result.stdout + result.stderr
    # An exception other than the exit is what a process would print as a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in output and "_csv.Error" not in output, output
    assert result.exit_code in (0, 1, 2), output
    if result.exit_code == 2:
        return
    for stream in json.loads(result.stdout)["streams"]:
        if stream["status"] == "failed":
            assert stream["error"]
        else:
            assert stream["rows_read"] == stream["rows_loaded"] + stream["rows_rejected"]
            assert stream["stream"] == "reject" or stream["rows_rejected"] == 0


def _failed_streams(dagsmith: Cli, folder: Path) -> list[str]:
    """`dagsmith run --json` of SPEC in `folder`: it must fail cleanly; each stream's error."""
    (folder / "p.yaml").write_text(SPEC)
    result = dagsmith("run", "p.yaml", "--json", cwd=folder)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    return [s["error"] for s in json.loads(result.stdout)["streams"]]


def test_an_unclosed_quote_in_a_ragged_row_is_a_clean_error_under_every_policy(
    tmp_path: Path, dagsmith: Cli
) -> None:
    (tmp_path / "m.csv").write_text('a,b\n1,2,"x\n')
    errors = _failed_streams(dagsmith, tmp_path)
    assert "m.csv: data row 1 has 3 fields, expected 2" in errors[0]
    assert all("never closed" in error for error in errors[1:])


def test_a_ragged_row_of_invalid_utf8_is_a_clean_error(tmp_path: Path, dagsmith: Cli) -> None:
    (tmp_path / "m.csv").write_bytes(b'a"bc0,c1\n\xff')
    errors = _failed_streams(dagsmith, tmp_path)
    assert all("m.csv: line 2 (byte 9) is not valid UTF-8" in error for error in errors), errors
