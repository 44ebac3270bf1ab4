"""A project whose pipeline `shop` loads CSV files into a target of each kind, run by
`dagsmith run` in this process (typer's runner), so that `dagsmith health` has real run
records to judge."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Database
from tests.runs.conftest import dagsmith

PIPELINE = "shop"
CONNECTION = "health_target"


@dataclass(frozen=True)
class Project:
    """The working folder of `dagsmith`, with `pipelines/shop.yaml` and its data files."""

    folder: Path
    schema: str | None
    """Where the test's tables go (None: the target's default schema)."""
    target: str | None
    """The connection id of the target; None: the embedded DuckDB file."""

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name

    def write_spec(self, streams: str, head: str = "") -> None:
        """The spec: `head` lines after the pipeline's name, then `streams` (YAML items)."""
        target = f"target: {self.target}\n" if self.target else ""
        text = f"pipeline: {PIPELINE}\n{target}{head}streams:\n{streams}"
        (self.folder / "pipelines" / f"{PIPELINE}.yaml").write_text(text, encoding="utf-8")

    def data(self, name: str, text: str | None) -> None:
        """A CSV file the next run reads (None: no file at all)."""
        path = self.folder / "pipelines" / "data" / name
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text, encoding="utf-8")

    def run(self) -> dict[str, Any]:
        """`dagsmith run` of the pipeline; its JSON summary."""
        code, out, err = dagsmith("run", f"pipelines/{PIPELINE}.yaml", "--json")
        summary: dict[str, Any] = json.loads(out)
        assert code == (0 if summary["ok"] else 1), err
        return summary

    def health(self, *args: str) -> tuple[int, dict[str, dict[str, list[dict[str, Any]]]]]:
        """`dagsmith health shop --json`: its exit code, and per stream its results by check."""
        code, out, err = dagsmith("health", PIPELINE, "--json", *args)
        assert code in (0, 1), err
        ((pipeline,),) = [json.loads(out)]
        by_stream: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for stream in pipeline["streams"]:
            checks = by_stream.setdefault(stream["stream"], {})
            for result in stream["checks"]:
                checks.setdefault(result["check"], []).append(result)
        return code, by_stream


@pytest.fixture(params=["postgres", "mariadb", "sqlite", "embedded"])
def project(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Project:
    """A project loading into each kind of target in turn, as the working folder."""
    (tmp_path / "pipelines" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    if request.param == "embedded":  # with a schema: the records sit beside the tables
        return Project(tmp_path, "sales", None)
    db: Database = request.getfixturevalue(request.param)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONNECTION.upper()}", db.url.render_as_string(False))
    return Project(tmp_path, db.schema, CONNECTION)
