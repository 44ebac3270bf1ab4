"""`kind: kafka` against a real Kafka-protocol broker: bounded runs that resume exactly where
the last load committed, into the embedded DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import psutil
import pytest

from connectors.errors import SourceError
from connectors.runner import run_pipeline
from connectors.spec import parse_spec
from tests.conftest import Cli, Database
from tests.sources_kafka.conftest import Broker

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))


def _spec(topics: str, extra: str = "", transform: str = "", target: str = "") -> str:
    return f"""
pipeline: events
{target}
streams:
  - name: orders
    source: {{kind: kafka, connection: events, topics: {topics}{extra}}}
    {transform}
    load: {{table: raw.orders, mode: append}}
"""


def _run(project: Path, spec: str) -> tuple[int, int]:
    """One `run_pipeline`: (rows loaded, rows rejected); a failed stream raises."""
    summary = run_pipeline(parse_spec(spec), base_dir=project, project_dir=project)
    (result,) = summary.streams
    if result.error is not None:
        raise result.error
    return result.stats.rows_loaded, result.stats.rows_rejected


def _ids(project: Path, table: str = "raw.orders") -> list[int]:
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [row[0] for row in con.execute(f"SELECT id FROM {table} ORDER BY id").fetchall()]


@pytest.fixture
def project(tmp_path: Path, kafka: Broker, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS", kafka.url)
    return tmp_path


def test_each_run_loads_the_messages_past_the_last_load(kafka: Broker, project: Path) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i, "amount": i / 4} for i in range(1000)))
    spec = _spec(f"[{topic}]")
    assert _run(project, spec) == (1000, 0)
    assert _run(project, spec) == (0, 0)  # nothing new: nothing loaded twice
    kafka.produce(topic, ({"id": i, "amount": 1.0} for i in range(1000, 1250)))
    assert _run(project, spec) == (250, 0)
    assert _ids(project) == list(range(1250))


def test_max_messages_bounds_a_run_and_the_next_one_resumes(kafka: Broker, project: Path) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i} for i in range(1000)))
    spec = _spec(f"[{topic}]", ", max_messages: 300")
    loaded = [_run(project, spec)[0] for _ in range(4)]
    assert loaded == [300, 300, 300, 100]
    assert _ids(project) == list(range(1000))


def test_a_pattern_reads_every_topic_it_matches(kafka: Broker, project: Path) -> None:
    first, second = kafka.topic(prefix="shop"), kafka.topic(prefix="shop")
    other = kafka.topic(prefix="audit")
    kafka.produce(first, ({"id": i} for i in range(10)))
    kafka.produce(second, ({"id": i} for i in range(10, 15)))
    kafka.produce(other, ({"id": i} for i in range(100, 105)))
    pattern = "^" + first.split(".")[0].replace(".", r"\.") + r"\..*"
    spec = _spec(f"['{pattern}']", ", metadata: [topic, partition, offset, key, timestamp]")
    assert _run(project, spec)[0] >= 15
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        topics = con.execute("SELECT DISTINCT kafka_topic FROM raw.orders").fetchall()
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'orders'"
            ).fetchall()
        )
        mine = con.execute(
            "SELECT count(*) FROM raw.orders WHERE kafka_topic IN (?, ?)", [first, second]
        ).fetchone()
    assert other not in {t for (t,) in topics}
    assert mine == (15,)
    assert types["kafka_timestamp"].startswith("TIMESTAMP WITH TIME ZONE")
    assert types["kafka_offset"] == "BIGINT" and types["kafka_partition"] == "BIGINT"


def test_malformed_messages_are_rejected_and_passed(kafka: Broker, project: Path) -> None:
    topic = kafka.topic(partitions=1)
    kafka.produce(topic, [{"id": 1}, b"{not json", b"[1, 2]", None, {"id": 2}])
    assert _run(project, _spec(f"[{topic}]")) == (2, 3)
    assert _run(project, _spec(f"[{topic}]")) == (0, 0)  # the position moved past them too
    warehouse = project / ".dagsmith" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("SELECT reason FROM raw.orders__rejects ORDER BY 1").fetchall()
    reasons = [r for (r,) in rows]
    assert len(reasons) == 3
    assert any("not JSON" in r for r in reasons) and any("tombstone" in r for r in reasons)
    assert any("a JSON list, not an object" in r for r in reasons)


def test_a_failed_commit_leaves_the_position_and_the_rerun_loads_each_message_once(
    kafka: Broker, project: Path
) -> None:
    """The reject limit is checked at commit: over it, the load and the position roll back."""
    topic = kafka.topic()
    kafka.produce(topic, [*({"id": i} for i in range(50)), b"oops", b"oops"])
    strict = _spec(f"[{topic}]", transform="transform: {reject_limit: 1}")
    with pytest.raises(Exception, match="reject"):
        _run(project, strict)
    assert _run(project, _spec(f"[{topic}]")) == (50, 2)
    assert _ids(project) == list(range(50))


def test_a_run_killed_at_any_point_neither_loses_nor_repeats_a_message(
    kafka: Broker, project: Path
) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i, "note": "x" * 100} for i in range(60_000)))
    spec = project / "events.yaml"
    spec.write_text(_spec(f"[{topic}]", ", max_messages: 20000"))
    env = {**os.environ, "AIRFLOW_CONN_EVENTS": kafka.url}
    for delay in (0.5, 1.5, 3.0):
        started = subprocess.Popen(
            [DAGSMITH, "run", str(spec)],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        started.send_signal(signal.SIGKILL)
        started.wait(30)
    _run_again(spec, project, env, times=4)
    assert _ids(project) == list(range(60_000))


def test_into_postgres_the_offsets_commit_beside_the_table(
    kafka: Broker, project: Path, postgres: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", postgres.url.render_as_string(False))
    table = postgres.table("orders")
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i} for i in range(100)))
    spec = _spec(f"[{topic}]", target="target: warehouse").replace("raw.orders", table)
    assert _run(project, spec) == (100, 0)
    assert _run(project, spec) == (0, 0)
    schema = table.split(".")[0]
    state = postgres.rows(f"{schema}._dagsmith_state")
    positions = [json.loads(row[-2]) for row in state if "position" in row]
    assert positions and sum(positions[0][topic].values()) == 100
    assert [row[0] for row in postgres.rows(table)] == list(range(100))


def test_an_unknown_topic_and_a_silent_broker_are_clear_errors(
    kafka: Broker, project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    known = kafka.topic()
    with pytest.raises(SourceError, match=r"holds no topic 'nope'.*") as caught:
        _run(project, _spec("[nope]"))
    assert known in (caught.value.hint or "")
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS", "kafka://127.0.0.1:1")
    with pytest.raises(SourceError, match="the brokers did not answer"):
        _run(project, _spec("[nope]"))
    # librdkafka retries every few milliseconds: each distinct line is logged once (a few
    # differ in their state or timing, more of them on a loaded machine; never one a retry).
    refused = [r.getMessage() for r in caplog.records if "Connection refused" in r.getMessage()]
    assert 0 < len(refused) <= 10 and len(set(refused)) == len(refused)


def test_connection_settings_beyond_security_are_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS", "kafka://127.0.0.1:9092?enable.auto.commit=true")
    with pytest.raises(SourceError, match=r"enable\.auto\.commit is not a connection setting"):
        _run(project, _spec("[orders]"))


def test_profile_samples_a_topic_without_moving_anything(
    kafka: Broker, project: Path, dagsmith: Cli
) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i, "customer": {"name": f"c{i}"}} for i in range(40)))
    env = {"AIRFLOW_CONN_EVENTS": kafka.url}
    profiled = dagsmith(
        "profile", f"kafka://{topic}", "--connection", "events", "--json", cwd=project, env=env
    )
    assert profiled.returncode == 0, profiled.stderr
    found = json.loads(profiled.stdout)
    assert found["source"] == {"kind": "kafka", "connection": "events", "topics": [topic]}
    assert {c["name"]: c["inferred"]["type"] for c in found["columns"]} == {
        "id": "bigint",
        "customer": "json",
    }
    assert found["sampled_rows"] == 40
    assert _run(project, _spec(f"[{topic}]")) == (40, 0)  # the profile committed nothing
    bare = dagsmith("profile", f"kafka://{topic}", cwd=project, env=env)
    assert bare.returncode != 0 and "needs the connection of its brokers" in bare.stderr


def test_build_understands_a_topic_and_what_it_writes_runs(
    kafka: Broker, project: Path, dagsmith: Cli
) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i, "amount": i * 2} for i in range(30)))
    env = {"AIRFLOW_CONN_EVENTS": kafka.url, "DAGSMITH_MODEL": "offline"}
    env["DAGSMITH_ALLOWED_HOSTS"] = "127.0.0.1"  # the brokers behind the named connection
    request = (
        f"every 5 minutes load the {topic} topic on connection events into raw.order_events, "
        "call it order_events"
    )
    built = dagsmith("build", request, cwd=project, env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    spec = project / "pipelines" / "order_events.yaml"
    written = parse_spec(spec.read_text())
    assert written.streams[0].source.model_dump(exclude_defaults=True) == {
        "kind": "kafka",
        "connection": "events",
        "topics": [topic],
    }
    ran = dagsmith("run", str(spec), "--json", cwd=project, env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["streams"][0]["rows_loaded"] == 30
    assert _ids(project, "raw.order_events") == list(range(30))


def test_init_writes_a_kafka_spec_that_runs_as_written(
    kafka: Broker, project: Path, dagsmith: Cli
) -> None:
    topic = kafka.topic()
    kafka.produce(topic, ({"id": i, "at": f"2026-12-0{i % 9 + 1}T10:00:00Z"} for i in range(25)))
    env = {"AIRFLOW_CONN_EVENTS": kafka.url}
    made = dagsmith(
        "init",
        f"kafka://{topic}",
        "--connection",
        "events",
        "--name",
        "events",
        cwd=project,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    spec = project / "pipelines" / "events.yaml"
    stream = parse_spec(spec.read_text()).streams[0]
    # A sample of a topic is never all of it: only a key is required; no cursor drafted.
    assert set(stream.transform.required) <= set(stream.load.keys)
    assert stream.incremental is None
    ran = dagsmith("run", str(spec), "--json", cwd=project, env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["streams"][0]["rows_loaded"] == 25
    again = dagsmith("run", str(spec), "--json", cwd=project, env=env)
    assert json.loads(again.stdout)["streams"][0]["rows_loaded"] == 0


@pytest.mark.parametrize("into", ["duckdb", "postgres", "mariadb"])
def test_a_quiet_first_run_loads_nothing_and_makes_no_table(
    kafka: Broker,
    project: Path,
    into: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A topic with nothing new is a normal window, even with types declared for its rows."""
    target, table = "", "raw.orders"
    if into != "duckdb":
        db: Database = request.getfixturevalue(into)
        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", db.url.render_as_string(False))
        target, table = "target: warehouse", db.table("orders").replace('"', "")
    topic = kafka.topic()
    spec = _spec(f"[{topic}]", transform="transform: {types: {id: bigint}}", target=target)
    spec = spec.replace("raw.orders", table)
    assert _run(project, spec) == (0, 0)
    kafka.produce(topic, ({"id": i} for i in range(5)))
    assert _run(project, spec) == (5, 0)


def test_a_broker_restarted_mid_run_loses_and_repeats_nothing(
    durable_kafka: Broker, tmp_path: Path
) -> None:
    """The run goes on through the restart (librdkafka reconnects) or fails having committed
    nothing; the runs after it load every message once."""
    broker = durable_kafka
    topic = broker.topic()
    broker.produce(topic, ({"id": i} for i in range(200_000)))
    spec = tmp_path / "events.yaml"
    spec.write_text(_spec(f"[{topic}]", ", max_messages: 150000, max_seconds: 120"))
    env = {**os.environ, "AIRFLOW_CONN_EVENTS": broker.url}
    running = subprocess.Popen(
        [DAGSMITH, "-v", "run", str(spec), "--json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_reading(running.pid)
    broker.stop()
    time.sleep(1.0)
    broker.start()
    _, errors = running.communicate(timeout=300)
    # It saw the broker go (librdkafka's lost connections are logged) and failed or went on.
    assert running.returncode != 0 or "Connection refused" in errors, errors[-2000:]
    _run_again(spec, tmp_path, env, times=3)
    assert _ids(tmp_path) == list(range(200_000))


def _run_again(spec: Path, cwd: Path, env: dict[str, str], times: int) -> None:
    """`dagsmith run` the spec `times` times, each to a successful end."""
    for _ in range(times):
        done = subprocess.run(
            [DAGSMITH, "run", str(spec), "--json"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def _wait_for_reading(pid: int) -> None:
    """Until the run holds a connection to the broker (its consumer is reading)."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(c.status == psutil.CONN_ESTABLISHED for c in process.net_connections("tcp")):
            return
        time.sleep(0.02)
    raise AssertionError("the run never connected to the broker")


def test_a_topic_that_appears_between_runs_is_read_from_its_start(
    kafka: Broker, project: Path
) -> None:
    """What a pattern matches grows: a new topic's partitions have no committed offset and
    start at `start`, and none is skipped. (Tansu cannot add partitions to a topic: it does
    not support CreatePartitions.)"""
    prefix = f"grow{uuid.uuid4().hex[:6]}"
    first = kafka.topic(partitions=2, prefix=prefix)
    kafka.produce(first, ({"id": i} for i in range(100)))
    spec = _spec(f"['^{prefix}\\..*']")
    assert _run(project, spec) == (100, 0)
    second = kafka.topic(partitions=3, prefix=prefix)
    kafka.produce(second, ({"id": i} for i in range(100, 160)))
    kafka.produce(first, ({"id": i} for i in range(160, 170)))
    assert _run(project, spec) == (70, 0)
    assert _ids(project) == list(range(170))


def test_start_latest_reads_what_arrives_after_the_first_run(kafka: Broker, project: Path) -> None:
    """A partition that read nothing keeps the end it reached: the messages that arrive
    before the next run are read by it. (The topic starts empty: Tansu answers a
    ListOffsets request, which `latest` sends, with an end short of the true one.)"""
    topic = kafka.topic()
    spec = _spec(f"[{topic}]", ", start: latest")
    assert _run(project, spec) == (0, 0)
    kafka.produce(topic, ({"id": i} for i in range(6)))
    assert _run(project, spec) == (6, 0)
    assert _ids(project) == list(range(6))


def test_a_quiet_topic_cannot_be_profiled_and_says_so(
    kafka: Broker, project: Path, dagsmith: Cli
) -> None:
    topic = kafka.topic()
    env = {"AIRFLOW_CONN_EVENTS": kafka.url}
    for command in ("profile", "init"):
        args = [command, f"kafka://{topic}", "--connection", "events"]
        done = dagsmith(
            *args, *(["--name", "quiet"] if command == "init" else []), cwd=project, env=env
        )
        assert done.returncode != 0
        assert "nothing to sample" in done.stderr and "Traceback" not in done.stderr
