"""The dry run loads a sample into a scratch DuckDB with the spec's own table names."""

from __future__ import annotations

from pathlib import Path

import palmerpenguins

from agent.workspace import SHOWN_ROWS, dry_run
from connectors.spec import Pipeline

PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def test_two_streams_with_one_table_name_in_two_schemas(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DAGSMITH_ALLOW_PATHS", str(PENGUINS.parent))
    source = {"kind": "csv", "path": str(PENGUINS), "null_values": ["", "NA"]}
    spec = Pipeline.model_validate(
        {
            "pipeline": "penguins",
            "streams": [
                {"name": "raw", "source": source, "load": {"table": "raw.penguins"}},
                {
                    "name": "heavy",
                    "source": source,
                    "transform": {
                        "types": {"body_mass_g": "integer"},
                        "filter": {"column": "body_mass_g", "op": ">", "value": 4000},
                    },
                    "load": {"table": "mart.penguins"},
                },
            ],
        }
    )

    ran = dry_run(spec, tmp_path, rows=100)

    statuses = [stream["status"] for stream in ran.summary["streams"]]
    assert statuses == ["ok", "ok"]
    assert len(ran.rows["raw.penguins"]) == SHOWN_ROWS
    heavy = ran.rows["mart.penguins"]
    assert heavy and all(row["body_mass_g"] > 4000 for row in heavy)
