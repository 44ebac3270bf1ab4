"""`dagsmith build` writes the source options the profile found, as `dagsmith init` does.

Files a stranger has: Palmer penguins written the Windows way (cp1252, `;`, decimal commas),
as a UTF-16 TSV, and airports (vega_datasets) nested in a JSON document.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import palmerpenguins
import pytest
from vega_datasets import data as vega

from agent.orchestrator.tools import Session, make_tools
from agent.planner import plan
from connectors.profiling import draft
from connectors.spec import load_spec
from tests.conftest import Cli

NOTE = "Île d'Ré"


def _penguin_rows() -> list[list[str]]:
    rows = [["Pinguin ID", "Art", "Insel", "Gewicht (g)", "Notiz"]]
    for n, (_, row) in enumerate(palmerpenguins.load_penguins().iterrows(), start=1):
        mass = row.body_mass_g
        weight = "NA" if mass != mass else str(mass).replace(".", ",")
        rows.append([str(n), row.species, row.island, weight, NOTE if n % 17 == 1 else ""])
    return rows


def _write(path: Path, encoding: str, delimiter: str) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(_penguin_rows())


@pytest.fixture
def files(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    _write(data / "pinguine.csv", "cp1252", ";")
    _write(data / "pinguine16.tsv", "utf-16", "\t")
    airports = vega.airports().head(300)
    items = [
        {"code": r.iata, "name": r["name"], "location": {"city": r.city, "lat": r.latitude}}
        for _, r in airports.iterrows()
    ]
    document = {"meta": {"count": len(items)}, "data": {"items": items}}
    (data / "airports.json").write_text(json.dumps(document))
    return tmp_path


def build(dagsmith: Cli, folder: Path, text: str) -> subprocess.CompletedProcess[str]:
    return dagsmith("build", text, "--yes", "--run", cwd=folder, env={"DAGSMITH_MODEL": "offline"})


def loaded(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(folder / ".dagsmith" / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("file", "encoding", "delimiter"),
    [("pinguine.csv", "cp1252", ";"), ("pinguine16.tsv", "utf-16", "\t")],
)
def test_a_build_reads_the_file_as_profiled_and_loads_its_values(
    files: Path, dagsmith: Cli, file: str, encoding: str, delimiter: str
) -> None:
    result = build(dagsmith, files, f"load data/{file} into penguins")
    assert result.returncode == 0, result.stderr
    source = load_spec(files / "pipelines" / "penguins.yaml").streams[0].source.model_dump()
    assert (source["encoding"], source["delimiter"]) == (encoding, delimiter)
    rows = loaded(files, "SELECT count(*), count(gewicht_g) FROM penguins")
    assert rows == [(344, 342)]  # two penguins were not weighed: NA, read as null
    first = loaded(files, "SELECT gewicht_g, notiz FROM penguins WHERE pinguin_id = 1")
    assert first == [(3750.0, NOTE)]


def test_a_build_reads_the_records_where_the_profile_found_them(files: Path, dagsmith: Cli) -> None:
    result = build(dagsmith, files, "load data/airports.json into geo.airports, upsert on code")
    assert result.returncode == 0, result.stderr
    source = load_spec(files / "pipelines" / "airports.yaml").streams[0].source.model_dump()
    assert source["records_path"] == "data.items"
    rows = loaded(files, "SELECT count(*), count(DISTINCT code) FROM geo.airports")
    assert rows == [(300, 300)]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("load data/p.csv (encoding cp1252) into p", {"encoding": "cp1252"}),
        ("load data/p.csv, semicolon separated, into p", {"delimiter": ";"}),
        ("load the latin-1 encoded data/p.csv into p", {"encoding": "iso8859-1"}),
        (
            "load data/p.csv into p, delimited by pipes, no header",
            {"delimiter": "|", "header": False},
        ),
        (
            "load data/p.csv into p; the delimiter is ';', it has no header",
            {"delimiter": ";", "header": False},
        ),
        ("load data/p.tsv into p, UTF-16 encoded", {"encoding": "utf-16"}),
        (
            "load data/a.json (records at data.items) into geo.airports",
            {"records_path": "data.items"},
        ),
    ],
)
def test_the_planner_reads_the_source_options_a_request_states(
    text: str, said: dict[str, Any]
) -> None:
    planned = plan(text)
    assert planned.spec is not None, planned.questions
    source = planned.spec.model_dump(mode="json")["streams"][0]["source"]
    assert {key: source.get(key) for key in said} == said


def test_a_stated_name_that_is_no_encoding_is_a_question() -> None:
    planned = plan("load data/p.csv (encoding klingon) into p")
    assert planned.spec is None
    assert "'klingon'" in planned.questions[0]


def test_the_model_is_told_the_options_and_init_writes_the_same_source(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    session = Session("load data/pinguine.csv into penguins", files, files)
    profile_source = next(t for t in make_tools(session) if t.name == "profile_source")
    call = {"name": "profile_source", "args": {"source": "data/pinguine.csv"}, "id": "c1"}
    message = profile_source.invoke({**call, "type": "tool_call"})
    found = next(line for line in message.content.splitlines() if "source as found" in line)
    assert 'encoding "cp1252"' in found and 'delimiter ";"' in found
    assert 'null_values "[\\"\\", \\"NA\\"]"' in found
    profiled = message.artifact
    drafted = draft.pipeline(profiled, "penguins").streams[0].source
    said = {"kind": "csv", "path": "data/pinguine.csv"}
    assert draft.source(profiled, said) == {**draft.source(profiled), **said}
    assert drafted.model_dump(mode="json", exclude_defaults=True) == draft.source(profiled)
