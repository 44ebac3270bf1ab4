"""The dry run loads a sample into a scratch DuckDB with the spec's own table names."""

from __future__ import annotations

from pathlib import Path

import palmerpenguins
import pytest

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


def _penguins(transform: dict[str, object]) -> Pipeline:
    source = {"kind": "csv", "path": str(PENGUINS), "null_values": ["", "NA"]}
    stream = {"name": "p", "source": source, "transform": transform, "load": {"table": "p"}}
    return Pipeline.model_validate({"pipeline": "p", "streams": [stream]})


def test_every_row_rejected_is_a_failure_with_its_top_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_ALLOW_PATHS", str(PENGUINS.parent))
    ran = dry_run(_penguins({"types": {"island": "bigint"}}), tmp_path, rows=200)

    (stream,) = ran.summary["streams"]
    assert (stream["status"], stream["rows_rejected"], stream["rows_loaded"]) == ("ok", 200, 0)
    why = ran.failures()["p"]
    assert why.startswith("rejected every row it could load (read 200, rejected 200, loaded 0")
    assert "by rule: type 200" in why
    assert "\"column 'island': 'Biscoe' is not a valid bigint\"" in why
    assert "Biscoe" not in ran.failures(reasons=False)["p"]


def test_rows_the_filter_kept_all_rejected_fail_but_a_filter_alone_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSMITH_ALLOW_PATHS", str(PENGUINS.parent))
    female = {"column": "sex", "op": "=", "value": "female"}
    never = {"island": {"allowed": ["Atlantis"]}}
    kept = dry_run(_penguins({"filter": female, "ranges": never}), tmp_path, rows=12)
    nobody = {"column": "island", "op": "=", "value": "Atlantis"}
    filtered = dry_run(_penguins({"filter": nobody}), tmp_path, rows=200)
    some = dry_run(_penguins({"required": ["sex"]}), tmp_path, rows=200)

    (stream,) = kept.summary["streams"]
    assert stream["rows_filtered"] > 0 and stream["rows_rejected"] > 0
    assert f"filtered out {stream['rows_filtered']}, " in kept.failures()["p"]
    assert filtered.summary["streams"][0]["rows_filtered"] == 200 and filtered.failures() == {}
    assert some.summary["streams"][0]["rows_rejected"] > 0 and some.failures() == {}
