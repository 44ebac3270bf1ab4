"""`dagsmith diagnose` on incidents staged with real runs into SQLite and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from agent.audit import trail
from connectors import running
from tests.conftest import Cli
from tests.monitor.conftest import CONNECTION, GOOD, HEADER, REST_SPEC, SPEC, Project
from tests.runs.conftest import dagsmith as in_process
from tests.sources_rest.conftest import SECRET, Answer, ApiServer, free_port


def apply(diff: str, folder: Path) -> None:
    """Apply a diff of `dagsmith diagnose` with `patch`, as a user would."""
    subprocess.run(["patch", "-p1", "--quiet"], cwd=folder, input=diff, text=True, check=True)


def changed_spec(project: Project, found: dict[str, Any]) -> dict[str, Any]:
    """The spec as the proposed diff leaves it (applied to a scratch copy)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pipelines").mkdir()
        shutil.copyfile(project.spec_path, Path(tmp) / "pipelines" / "shop.yaml")
        apply(found["change"]["diff"], Path(tmp))
        data: dict[str, Any] = yaml.safe_load((Path(tmp) / "pipelines" / "shop.yaml").read_text())
    return data


def test_bad_values_propose_null_values(project: Project) -> None:
    before = project.write_spec()
    project.data(GOOD)
    project.run()
    rows = [
        "3,N/A,2026-12-02T00:00:00Z",
        "4,n/a,2026-12-02T00:00:00Z",
        "5,N/A,2026-12-02T00:00:00Z",
    ]
    project.data(HEADER + "\n".join([*rows, "6,12.5.2024,2026-12-02T00:00:00Z"]) + "\n")
    run = project.run()
    assert run["rows_rejected"] == 4

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "bad_values"
    assert found["run_id"] == run["run_id"] and found["stream"] == "orders"
    assert '"N/A"' in found["what_happened"]
    assert any("3 row(s)" in fact and '"amount"' in fact for fact in found["evidence"])
    assert any('"12.5.2024"' in fact for fact in found["evidence"])
    change = found["change"]
    assert change["checked"] is True and change["spec_path"] == "pipelines/shop.yaml"
    assert (
        "+    source: {kind: csv, path: data/orders.csv, null_values: ['', N/A, n/a]}"
        in change["diff"]
    )
    assert changed_spec(project, found)["streams"][0]["source"]["null_values"] == ["", "N/A", "n/a"]
    assert project.spec_path.read_text() == before, "diagnose never writes the spec"
    steps = [r for r in trail.read(trail.trail_path(project.folder)) if r["command"] == "diagnose"]
    assert [r["tool"] for r in steps][-2:] == ["propose_change", "reply"]
    assert {r["model"] for r in steps} == {"offline"}
    assert trail.verify(trail.trail_path(project.folder)).problems == []


def test_a_format_is_proposed_for_its_column_alone(project: Project) -> None:
    project.write_spec()
    project.data(GOOD)
    project.run()
    project.data(HEADER + "3,1.00,13.11.2026 08:00\n4,2.00,25.11.2026 09:30\n")
    run = project.run()
    assert run["rows_rejected"] == 2

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "bad_values" and found["change"]["checked"] is True
    types = changed_spec(project, found)["streams"][0]["transform"]["types"]
    assert types["updated_at"]["format"] == "%d.%m.%Y %H:%M"
    assert (types["id"], types["amount"]) == ("bigint", "decimal(10,2)"), "the others as written"
    apply(found["change"]["diff"], project.folder)
    assert project.run()["rows_loaded"] == 2


def test_values_of_another_type_propose_the_type_they_are_written_in(project: Project) -> None:
    project.write_spec(SPEC.replace('amount: "decimal(10,2)"', "amount: integer"))
    project.data(HEADER + "1,3750.5,2026-12-01T00:00:00Z\n2,12.25,2026-12-01T01:00:00Z\n")
    run = project.run()
    assert run["rows_rejected"] == 2

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "bad_values" and found["change"]["checked"] is True
    amount = changed_spec(project, found)["streams"][0]["transform"]["types"]["amount"]
    assert amount != "integer" and str(amount).startswith(("decimal", "float", "double"))


def test_values_no_type_reads_get_an_action_instead(project: Project) -> None:
    project.write_spec()
    project.data(HEADER + "1,ten,2026-12-01T00:00:00Z\n2,three,2026-12-01T01:00:00Z\n")
    run = project.run()

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "bad_values" and found["change"] is None
    assert "transform.types.amount" in found["action"]


def test_a_reject_limit_is_explained_from_the_current_sample(project: Project) -> None:
    project.write_spec(SPEC.replace("required: [id]", "required: [id]\n      max_rejects: 1"))
    project.data(HEADER + "1,N/A,2026-12-02T00:00:00Z\n2,null,2026-12-02T00:00:00Z\n3,1.00,x\n")
    run = project.run()
    assert run["status"] == "failed" and run["rows_rejected"] == 3  # rolled back, not kept

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "bad_values"
    assert any('"N/A"' in fact and "on the current sample" in fact for fact in found["evidence"])
    assert found["change"]["checked"] is True
    nulls = changed_spec(project, found)["streams"][0]["source"]["null_values"]
    assert sorted(nulls) == ["", "N/A", "null"]


def test_new_column_proposes_the_contract(project: Project) -> None:
    project.write_spec()
    project.data(GOOD)
    project.run()
    project.data("id,amount,updated_at,note\n3,1.00,2026-12-02T00:00:00Z,gift\n")
    run = project.run()
    assert run["status"] == "failed"

    # `runs show` and `health` point at the diagnosis.
    shown = in_process("runs", "show", run["run_id"])[1]
    assert f"explain it: dagsmith diagnose {run['run_id']}" in shown
    assert "explain it: dagsmith diagnose shop" in in_process("health", "shop")[1]

    found = project.diagnose("shop")  # the pipeline: its latest failed run

    assert found["finding"] == "new_column" and found["run_id"] == run["run_id"]
    assert '"note"' in found["what_happened"]
    assert found["change"]["checked"] is True
    assert "+    contract: {new_columns: add}" in found["change"]["diff"]
    assert changed_spec(project, found)["streams"][0]["contract"] == {"new_columns": "add"}
    # The change is what makes the next run pass.
    apply(found["change"]["diff"], project.folder)
    assert project.run()["status"] == "ok"


def test_renamed_column_follows_the_new_name(project: Project) -> None:
    project.write_spec()
    project.data(GOOD)
    project.run()
    project.data("id,amount_eur,updated_at\n3,1.00,2026-12-02T00:00:00Z\n")
    run = project.run()
    assert run["status"] == "failed"

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "renamed_column"
    assert '"amount"' in found["what_happened"] and '"amount_eur"' in found["what_happened"]
    assert found["change"]["checked"] is True
    transform = changed_spec(project, found)["streams"][0]["transform"]
    assert transform["rename"] == {"amount_eur": "amount"}


def test_duplicate_keys_propose_dedupe(project: Project) -> None:
    project.write_spec()
    rows = [f"{i % 3},{i}.00,2026-12-02T00:00:0{i}Z" for i in range(9)]
    project.data(HEADER + "\n".join(rows) + "\n")
    run = project.run()
    assert run["rows_loaded"] == 3

    found = project.diagnose("shop")

    assert found["finding"] == "duplicate_keys"
    assert any("6 row(s)" in fact for fact in found["evidence"])
    assert found["change"]["checked"] is True
    dedupe = changed_spec(project, found)["streams"][0]["transform"]["dedupe"]
    assert dedupe == {"keys": ["id"], "keep": "last"}


def test_healthy_run_is_said_so(project: Project) -> None:
    project.write_spec()
    project.data(GOOD)
    run = project.run()

    found = project.diagnose("shop")

    assert found["finding"] == "healthy" and found["run_id"] == run["run_id"]
    assert found["change"] is None and found["model"] == "offline"


def test_unknown_run_is_a_user_error(project: Project) -> None:
    project.write_spec()
    code, _, err = in_process("diagnose", "manual__nope", "--json")
    assert code == 1 and "no run 'manual__nope'" in err


def test_auth_failed_names_the_connection_never_its_secret(
    project: Project, api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def answer(seen: object) -> Answer:
        headers = getattr(seen, "headers", {})
        ok = headers.get("Authorization") == f"Bearer {SECRET}"
        return Answer(200, [{"id": 1}]) if ok else Answer(401, {"error": "token revoked"})

    api.routes["/items"] = answer
    project.write_spec(REST_SPEC)
    assert project.run()["status"] == "ok"
    port = api.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_API", f"http://client:revoked-{SECRET}@127.0.0.1:{port}")
    run = project.run()
    assert run["status"] == "failed"

    found = project.diagnose("shop")

    assert found["finding"] == "auth_failed" and found["run_id"] == run["run_id"]
    assert found["change"] is None
    assert "AIRFLOW_CONN_API" in found["action"] and "'api'" in found["action"]
    assert SECRET not in str(found)


def test_killed_run_is_found_by_its_marker(project: Project, dagsmith: Cli) -> None:
    project.write_spec()
    project.data(GOOD)
    project.run()
    # A source that never ends (a FIFO nobody writes to) keeps the run busy until it is killed.
    fifo = project.folder / "pipelines" / "data" / "orders.csv"
    fifo.unlink()
    os.mkfifo(fifo)
    said = project.folder / "run.err"
    with said.open("w") as stderr:
        proc = subprocess.Popen(
            [dagsmith.path, "run", "pipelines/shop.yaml"],
            cwd=project.folder,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts a process slowly
        while not running.markers("shop") and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, f"the run ended early: {said.read_text()}"
        (marker,) = running.markers("shop")
        assert marker.alive is True
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    fifo.unlink()
    project.data(GOOD)

    found = project.diagnose("shop")

    assert found["finding"] == "run_killed" and found["run_id"] == marker.run_id
    assert found["change"] is None
    assert f"--run-id {marker.run_id}" in found["action"] and "safe" in found["action"]
    assert any("process is gone" in fact for fact in found["evidence"])
    # A success under another run id supersedes it; the rerun it proposes removes its marker.
    project.run()
    assert project.diagnose("shop")["finding"] == "healthy"
    assert project.diagnose(marker.run_id)["finding"] == "run_killed"
    assert in_process(*found["action"].split(": ", 1)[1].split()[1:])[0] == 0
    assert running.markers("shop") == []


def test_outage_then_recovery_is_said_so(
    project: Project, api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.routes["/items"] = lambda seen: Answer(200, [{"id": 1}])
    project.write_spec(REST_SPEC.replace("auth: {{type: bearer}}", "retry: {{attempts: 1}}"))
    assert project.run()["status"] == "ok"
    good = os.environ["AIRFLOW_CONN_API"]
    monkeypatch.setenv("AIRFLOW_CONN_API", f"http://127.0.0.1:{free_port()}")  # nothing listens
    outage = project.run()
    assert outage["status"] == "failed"
    monkeypatch.setenv("AIRFLOW_CONN_API", good)
    assert project.run()["status"] == "ok"

    found = project.diagnose("shop")

    assert found["finding"] == "source_unreachable" and found["run_id"] == outage["run_id"]
    assert "recovered" in found["what_happened"] and found["change"] is None


# MariaDB names no column ("Duplicate entry '1' for key 'PRIMARY'"): the table's key is read.
@pytest.mark.parametrize("project", ["sqlite", "postgres", "mariadb"], indirect=True)
def test_a_key_the_table_enforces_is_found(project: Project) -> None:
    engine = sa.create_engine(os.environ[f"AIRFLOW_CONN_{CONNECTION.upper()}"])
    with engine.begin() as conn:  # a table made by hand, its key declared there only
        conn.execute(sa.text(f"CREATE TABLE {project.table} (id BIGINT PRIMARY KEY, note TEXT)"))
    engine.dispose()
    project.write_spec(
        SPEC.replace("mode: upsert, keys: [id]", "mode: append").replace(
            'amount: "decimal(10,2)", updated_at: timestamptz', "note: string"
        )
    )
    project.data("id,note\n1,a\n1,b\n")
    run = project.run()
    assert run["status"] == "failed"

    found = project.diagnose(run["run_id"])

    assert found["finding"] == "duplicate_keys"
    assert found["change"]["checked"] is True
    dedupe = changed_spec(project, found)["streams"][0]["transform"]["dedupe"]
    assert dedupe == {"keys": ["id"], "keep": "last"}
