"""Profiles of real public data sets shipped in PyPI packages (palmerpenguins, vega_datasets)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import palmerpenguins
import pytest
import vega_datasets

from tests.conftest import Cli
from tests.profiling.conftest import profile_path

PENGUINS = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
VEGA = Path(vega_datasets.__file__).parent / "_data"
ALLOW = {"DAGSMITH_ALLOW_PATHS": os.pathsep.join([str(PENGUINS.parent), str(VEGA)])}
"""The data sets lie outside a test's project folder: the user allows their folders."""


def test_penguins_types_nulls_and_exact_counts() -> None:
    found = profile_path(PENGUINS)
    assert (found.rows.value, found.rows.estimated, found.method) == (344, False, "full")
    assert found.format == {"encoding": "utf-8", "bom": False, "delimiter": ",", "header": True}
    types = {c.name: c.inferred.type for c in found.columns}
    assert types == {
        "species": "string",
        "island": "string",
        "bill_length_mm": "float",
        "bill_depth_mm": "float",
        "flipper_length_mm": "integer",
        "body_mass_g": "integer",
        "sex": "string",
        "year": "integer",
    }
    mass = found.column("body_mass_g")
    # "NA" among numbers is a null marker, not a failed number.
    assert "null_token:NA" in mass.hints and mass.inferred.share == 1.0
    assert mass.null_ratio == round(2 / 344, 4)
    assert (mass.min, mass.max, mass.distinct.estimated) == (2700, 6300, False)
    assert found.column("species").distinct.value == 3
    assert found.column("species").top[0] == ("Adelie", 152)
    assert found.keys == [] and found.cursors == []  # no unique column; `year` has ties


def test_vega_stocks_composite_key_and_seattle_dates() -> None:
    stocks = profile_path(VEGA / "stocks.csv")
    assert stocks.keys[0] == ["date", "symbol"]
    assert stocks.column("price").inferred.type == "decimal(18,4)"  # money by its name
    weather = profile_path(VEGA / "seattle-weather.csv")
    assert weather.keys == [["date"]]
    # 2012/01/01 is not ISO 8601: a date with its format, read by every sampled value.
    date = weather.column("date").inferred
    assert (date.type, date.format, date.share) == ("date", {"format": "%Y/%m/%d"}, 1.0)
    assert stocks.column("date").inferred.format == {"format": "%b %d %Y"}  # Jan 1 2000
    assert weather.column("temp_min").negatives > 0


def test_vega_cars_json_typed_values() -> None:
    cars = profile_path(VEGA / "cars.json")
    assert cars.format == {"records_path": None}
    assert cars.rows.value == 406
    assert cars.column("Horsepower").inferred.type == "bigint"
    assert cars.column("Horsepower").nullable


def test_init_then_run_penguins_into_the_embedded_duckdb(tmp_path: Path, dagsmith: Cli) -> None:
    made = dagsmith("init", str(PENGUINS), "--name", "penguins", cwd=tmp_path, env=ALLOW)
    assert made.returncode == 0, made.stderr
    spec = (tmp_path / "pipelines" / "penguins.yaml").read_text()
    assert "null_values:\n    - ''\n    - NA" in spec
    ran = dagsmith("run", "pipelines/penguins.yaml", cwd=tmp_path, env=ALLOW)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    warehouse = tmp_path / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as db:
        ((count, nulls),) = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE body_mass_g IS NULL) FROM penguins"
        ).fetchall()
    assert (count, nulls) == (344, 2)


def test_init_refuses_to_overwrite(tmp_path: Path, dagsmith: Cli) -> None:
    assert dagsmith("init", str(PENGUINS), "--name", "p", cwd=tmp_path, env=ALLOW).returncode == 0
    again = dagsmith("init", str(PENGUINS), "--name", "p", cwd=tmp_path, env=ALLOW)
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.mark.parametrize("name", ["airports.csv", "iowa-electricity.csv", "la-riots.csv"])
def test_more_vega_files_init_and_run(tmp_path: Path, name: str, dagsmith: Cli) -> None:
    made = dagsmith("init", str(VEGA / name), "--name", "data", cwd=tmp_path, env=ALLOW)
    assert made.returncode == 0, made.stderr
    ran = dagsmith("run", "pipelines/data.yaml", "--json", cwd=tmp_path, env=ALLOW)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert '"rows_rejected": 0' in ran.stdout
