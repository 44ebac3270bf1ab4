"""Excel sheets as people make them: a title above the table, an empty first sheet.

Profiling finds the sheet and the header row a drafted spec reads (`dagsmith init`, `build`,
`chat`); a run reads the sheet the spec names, and says when it is empty.
"""

from __future__ import annotations

import json
import logging
import shlex
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook

from connectors.errors import SpecError
from connectors.profiling.model import Profile
from connectors.profiling.resolve import Request, profile_request
from tests.conftest import Cli

Rows = list[list[Any]]
HEADER = ["order_id", "region", "amount"]
DATA: Rows = [[1, "EU", 10.5], [2, "US", 3.0], [3, "EU", 7.25]]


def _book(path: Path, **sheets: Rows) -> Path:
    """A workbook of the sheets given (name -> rows, in order); an empty list: no cell."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _profile(path: Path, **options: Any) -> Profile:
    request = Request(str(path), options=tuple(options.items()))
    return profile_request(
        request, project_dir=path.parent, rows=1000, full=False, with_quality=False
    )


def _columns(found: Profile) -> list[str]:
    return [column.name for column in found.columns]


def test_two_line_title_and_a_blank_row_above_the_header(tmp_path: Path) -> None:
    rows = [["Sales report"], ["Quarter 1, all regions"], [], HEADER, *DATA]
    found = _profile(_book(tmp_path / "b.xlsx", Sales=rows))
    assert found.source["header_row"] == 4
    assert "sheet" not in found.source
    assert _columns(found) == HEADER
    assert found.rows.value == 3
    assert "row 4" in found.format["header_row"] and "title" in found.format["header_row"]
    # The same table with its header on row 1 is read as it always was.
    found = _profile(_book(tmp_path / "c.xlsx", Sales=[HEADER, *DATA]))
    assert "header_row" not in found.source and "header_row" not in found.format
    assert _columns(found) == HEADER and found.rows.value == 3


def test_a_first_data_row_with_empty_cells(tmp_path: Path) -> None:
    sparse = [[1, None, None], [2, "US", None], [3, "EU", 7.25]]
    plain = _profile(_book(tmp_path / "a.xlsx", S=[HEADER, *sparse]))
    assert "header_row" not in plain.source and _columns(plain) == HEADER
    titled = _profile(_book(tmp_path / "b.xlsx", S=[["Orders"], HEADER, *sparse]))
    assert titled.source["header_row"] == 2 and _columns(titled) == HEADER


def test_a_note_under_the_table_does_not_move_the_header(tmp_path: Path) -> None:
    note = [[], ["Source: ERP export, figures in EUR"]]
    plain = _profile(_book(tmp_path / "a.xlsx", S=[HEADER, *DATA, *note]))
    assert "header_row" not in plain.source and _columns(plain) == HEADER
    titled = _profile(_book(tmp_path / "b.xlsx", S=[["Orders"], [], HEADER, *DATA, *note]))
    assert titled.source["header_row"] == 3 and _columns(titled) == HEADER


@pytest.mark.parametrize("year", ["2024", 2024], ids=["text", "number"])
def test_a_number_like_label_in_the_header(tmp_path: Path, year: Any) -> None:
    header = ["region", 2023 if isinstance(year, int) else "2023", year]
    rows = [["EU", 1.5, 2.5], ["US", 3.0, 4.0]]
    plain = _profile(_book(tmp_path / "a.xlsx", S=[header, *rows]))
    assert "header_row" not in plain.source and _columns(plain) == ["region", "2023", "2024"]
    titled = _profile(_book(tmp_path / "b.xlsx", S=[["Revenue by year"], [], header, *rows]))
    assert titled.source["header_row"] == 3 and _columns(titled) == ["region", "2023", "2024"]


def test_blank_rows_above_and_a_header_that_is_no_label_row(tmp_path: Path) -> None:
    """Blank rows alone move the header down; a header of dates stays where it is."""
    blank = _profile(_book(tmp_path / "a.xlsx", S=[[], [], HEADER, *DATA]))
    assert blank.source["header_row"] == 3 and "blank" in blank.format["header_row"]
    dated = [["region", date(2024, 1, 1), date(2024, 2, 1)], ["EU", 1, 2], ["US", 3, 4]]
    found = _profile(_book(tmp_path / "b.xlsx", S=dated))
    assert "header_row" not in found.source
    assert _columns(found)[0] == "region" and _columns(found)[1].startswith("2024-01-01")


def test_an_empty_first_sheet_drafts_the_sheet_with_data(tmp_path: Path) -> None:
    path = _book(tmp_path / "b.xlsx", Cover=[], Notes=[], Data=[["Orders"], HEADER, *DATA])
    found = _profile(path)
    assert found.source["sheet"] == "Data" and found.source["header_row"] == 2
    assert "Cover" in found.format["sheet"] and _columns(found) == HEADER
    # A first sheet with data is read, whatever the others hold.
    found = _profile(_book(tmp_path / "c.xlsx", First=[HEADER, *DATA[:1]], Data=[HEADER, *DATA]))
    assert "sheet" not in found.source and found.rows.value == 1


def test_given_options_are_kept_and_the_rest_found(tmp_path: Path) -> None:
    path = _book(tmp_path / "b.xlsx", Cover=[], Data=[["Orders"], HEADER, *DATA])
    on_cover = _profile(path, sheet="Cover")
    assert on_cover.source["sheet"] == "Cover" and not on_cover.columns
    found = _profile(path, sheet="Data")
    assert found.source["header_row"] == 2 and _columns(found) == HEADER
    found = _profile(path, header_row=1)
    assert found.source["sheet"] == "Data" and "header_row" not in found.source
    assert _columns(found) == ["Orders", "column_2", "column_3"]


def test_an_option_of_another_kind_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SpecError, match="a csv source has no option sheet"):
        _profile(tmp_path / "a.csv", sheet="Data")


def test_a_pipeline_stream_is_profiled_as_written(tmp_path: Path) -> None:
    _book(tmp_path / "b.xlsx", Cover=[], Data=[["Orders"], HEADER, *DATA])
    spec = tmp_path / "p.yaml"
    stream = {"name": "s", "source": {"kind": "excel", "path": "b.xlsx", "sheet": "Data"}}
    spec.write_text(
        yaml.safe_dump({"pipeline": "p", "streams": [{**stream, "load": {"table": "s"}}]})
    )
    request = Request(str(spec), stream="s")
    found = profile_request(request, project_dir=tmp_path, rows=100, full=False, with_quality=False)
    assert "header_row" not in found.source and _columns(found)[0] == "Orders"


def test_reading_an_empty_sheet_names_the_sheets_with_data(
    tmp_path: Path, make_ctx: Any, batches: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _book(tmp_path / "b.xlsx", Cover=[], Blank=[], Data=[HEADER, *DATA], More=[["x"], [1]])
    with caplog.at_level(logging.WARNING, logger="dagsmith"):
        out = batches({"kind": "excel", "path": "b.xlsx"}, make_ctx())
    assert sum(batch.num_rows for batch in out) == 0
    said = [r.getMessage() for r in caplog.records if "is empty" in r.getMessage()]
    assert len(said) == 1
    assert "b.xlsx: sheet 'Cover' is empty" in said[0] and "are: Data, More" in said[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dagsmith"):
        rows = batches({"kind": "excel", "path": "b.xlsx", "sheet": "Data"}, make_ctx())
        batches({"kind": "excel", "path": "b.xlsx", "header_row": 9, "sheet": 2}, make_ctx())
    assert sum(batch.num_rows for batch in rows) == 3
    assert not [r for r in caplog.records if "is empty" in r.getMessage()]


def _init_then_run(dagsmith: Cli, folder: Path, *args: str) -> tuple[dict[str, Any], Path]:
    """`dagsmith init ARGS` into SQLite, then the run it printed; the spec and the database."""
    database = folder / "warehouse.db"
    env = {"AIRFLOW_CONN_WH": f"sqlite:///{database}"}
    made = dagsmith("init", *args, "--target", "wh", cwd=folder, env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    command = shlex.split(made.stdout.splitlines()[-1].removeprefix("run it with: dagsmith "))
    ran = dagsmith(*command, "--json", cwd=folder, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["streams"][0]["rows_loaded"] == 3
    return yaml.safe_load((folder / command[1]).read_text()), database


def _loaded(database: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with sqlite3.connect(database) as conn:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY 1")
        return [d[0] for d in cursor.description], cursor.fetchall()


def test_init_then_run_reads_the_table_under_a_title(tmp_path: Path, dagsmith: Cli) -> None:
    rows = [["Sales report"], ["Prepared by finance"], [], HEADER, *DATA]
    _book(tmp_path / "sales.xlsx", Cover=[], Sales=rows)
    spec, database = _init_then_run(dagsmith, tmp_path, "sales.xlsx", "--name", "sales")
    source = spec["streams"][0]["source"]
    assert (source["sheet"], source["header_row"]) == ("Sales", 4)
    names, loaded = _loaded(database, "sales")
    assert names == HEADER
    assert loaded == [tuple(row) for row in DATA]


def test_init_with_sheet_and_header_row(tmp_path: Path, dagsmith: Cli) -> None:
    # A header of one label under a wider title row: no rule could tell; the options say it.
    rows = [["Orders", "Q1", "EU"], ["id", None, None], *[[n, None, None] for n in (1, 2, 3)]]
    _book(tmp_path / "b.xlsx", Data=[HEADER, *DATA], Odd=rows)
    spec, database = _init_then_run(
        dagsmith, tmp_path, "b.xlsx", "--name", "odd", "--sheet", "Odd", "--header-row", "2"
    )
    assert spec["streams"][0]["source"] | {"path": ""} == {
        "kind": "excel",
        "path": "",
        "sheet": "Odd",
        "header_row": 2,
    }
    assert _loaded(database, "odd") == (["id"], [(1,), (2,), (3,)])


def test_init_on_a_sheet_that_is_not_there_writes_nothing(tmp_path: Path, dagsmith: Cli) -> None:
    _book(tmp_path / "b.xlsx", Data=[HEADER, *DATA])
    made = dagsmith("init", "b.xlsx", "--name", "b", "--sheet", "Nope", cwd=tmp_path)
    assert made.returncode != 0
    assert "has no sheet 'Nope'; its sheets are: Data" in made.stdout + made.stderr
    made = dagsmith("init", "b.xlsx", "--name", "b", "--header-row", "0", cwd=tmp_path)
    assert made.returncode != 0
    assert not (tmp_path / "pipelines").exists()
