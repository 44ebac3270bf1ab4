"""Time the JSON Lines reader on flat and on nested records (300,000 of each).

Run: `.venv/bin/python bench/json_nested.py [OLD_JSON_MODULE.py]`. With a path to another
version of `connectors/sources/json.py` (`git show REV:connectors/sources/json.py > old.py`),
both are timed, alternately, twice each.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from pydantic import TypeAdapter

from connectors.runtime import ReadContext, Rejects, RunInfo, StreamStats
from connectors.sources import json as current
from connectors.spec.sources import SourceSpec

ROWS = 300_000


def _write(folder: Path) -> None:
    with (folder / "flat.jsonl").open("w") as flat, (folder / "nested.jsonl").open("w") as nested:
        for i in range(ROWS):
            flat.write(json.dumps({"id": i, "amount": i * 0.5, "name": f"n{i}", "ok": i % 2 == 0}))
            nested.write(
                json.dumps({"id": i, "who": {"name": f"n{i}", "tags": ["a", "b"][: i % 3]}})
            )
            flat.write("\n")
            nested.write("\n")


def _module(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("connectors.sources.json_other", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _time(module: ModuleType, folder: Path, name: str) -> float:
    run = RunInfo("bench", "bench", "bench", datetime.now(UTC))
    ctx = ReadContext(folder, 131_072, Rejects(run, StreamStats()))
    source = TypeAdapter(SourceSpec).validate_python({"kind": "jsonl", "path": name})
    started = time.perf_counter()
    rows = sum(batch.num_rows for batch in module.read(source, ctx))
    assert rows == ROWS
    return time.perf_counter() - started


def main() -> None:
    """Print the seconds each reader takes on each file."""
    modules = {"current": current}
    if len(sys.argv) > 1:
        modules["other"] = _module(sys.argv[1])
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder))
        for name in ("flat.jsonl", "nested.jsonl"):
            for _ in range(2):
                for label, module in modules.items():
                    print(f"{name:13} {label:8} {_time(module, Path(folder), name):.2f} s")


if __name__ == "__main__":
    main()
