"""The cursor `dagsmith init` writes follows the write mode: an upsert follows a modification
time or nothing, so a changed row of a re-exported file is loaded on the next run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import palmerpenguins
import pandas as pd
import yaml

from connectors.profiling import draft
from tests.conftest import Cli
from tests.profiling.conftest import profile_path

PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def _init_and_run(dagsmith: Cli, folder: Path, data: str) -> dict[str, Any]:
    made = dagsmith("init", data, "--name", "t", cwd=folder)
    assert made.returncode == 0, made.stderr
    _run(dagsmith, folder)
    spec: dict[str, Any] = yaml.safe_load((folder / "pipelines" / "t.yaml").read_text())
    return spec


def _run(dagsmith: Cli, folder: Path) -> dict[str, int]:
    ran = dagsmith("run", "pipelines/t.yaml", "--json", cwd=folder)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    stream: dict[str, int] = json.loads(ran.stdout)["streams"][0]
    return stream


def _value(folder: Path, sql: str) -> object:
    with duckdb.connect(str(folder / ".dagsmith" / "warehouse.duckdb"), read_only=True) as conn:
        found = conn.execute(sql).fetchall()
    return found[0][0]


def test_an_upsert_on_an_id_without_a_modification_time_has_no_cursor(
    tmp_path: Path, dagsmith: Cli
) -> None:
    penguins = pd.read_csv(PENGUINS)
    penguins.insert(0, "penguin_id", range(1, len(penguins) + 1))
    penguins.to_csv(tmp_path / "penguins.csv", index=False)

    spec = _init_and_run(dagsmith, tmp_path, "penguins.csv")
    (stream,) = spec["streams"]
    assert stream["load"]["mode"] == "upsert" and stream["load"]["keys"] == ["penguin_id"]
    assert "incremental" not in stream
    assert "No incremental cursor" in str(spec["description"])
    assert "`incremental: {cursor: penguin_id}`" in str(spec["description"])

    penguins.loc[0, "body_mass_g"] = 9999.0  # the file is exported again with a fix
    penguins.to_csv(tmp_path / "penguins.csv", index=False)
    again = _run(dagsmith, tmp_path)

    assert again["rows_filtered"] == 0
    assert _value(tmp_path, "SELECT body_mass_g FROM t WHERE penguin_id = 1") == 9999.0
    assert _value(tmp_path, "SELECT COUNT(*) FROM t") == len(penguins)


def test_an_upsert_follows_updated_at_and_loads_the_changed_row(
    tmp_path: Path, dagsmith: Cli
) -> None:
    rows = [(i, i * 1.5, f"2026-03-{1 + i % 20:02d}T{i % 24:02d}:00:00Z") for i in range(1, 61)]
    frame = pd.DataFrame(rows, columns=["id", "amount", "updated_at"])
    frame.to_csv(tmp_path / "orders.csv", index=False)

    spec = _init_and_run(dagsmith, tmp_path, "orders.csv")
    (stream,) = spec["streams"]
    assert stream["load"]["mode"] == "upsert" and stream["incremental"] == {"cursor": "updated_at"}
    assert "Incremental on updated_at, the rows' modification time" in str(spec["description"])

    frame.loc[2] = (3, 99.0, "2026-04-01T00:00:00Z")  # row 3 changes, later than any other
    frame.to_csv(tmp_path / "orders.csv", index=False)
    again = _run(dagsmith, tmp_path)

    assert (again["rows_read"], again["rows_filtered"]) == (60, 59)
    assert _value(tmp_path, "SELECT amount FROM t WHERE id = 3") == 99.0
    assert _value(tmp_path, "SELECT COUNT(*) FROM t") == 60


def test_a_creation_time_is_an_append_cursor_not_an_upsert_one(tmp_path: Path) -> None:
    rows = [f"{i},{i * 2},2026-03-01T{i // 60:02d}:{i % 60:02d}:00Z" for i in range(1, 41)]
    (tmp_path / "events.csv").write_text("event_id,size,created_at\n" + "\n".join(rows) + "\n")
    found = profile_path(tmp_path / "events.csv")
    assert found.cursors[0] == "created_at" and found.modified == []

    stream = draft.pipeline(found, "events").streams[0]

    assert stream.load.mode == "upsert" and stream.incremental is None
    found.keys = []
    appended = draft.pipeline(found, "events").streams[0]
    assert appended.load.mode == "append" and appended.incremental is not None
    assert appended.incremental.cursor == "created_at"
