"""PostgreSQL loads whose reading overlaps the connection, the preparation and the COPY.

The connection opens while the first batch is read, and the runner reads batches ahead on a
thread while COPY sends earlier ones: none of that may let part of a failed load land, leave
a connection open, or hide which side failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyarrow as pa
import pytest
import sqlalchemy as sa

from connectors.errors import SourceError, TargetUnavailable
from connectors.loaders.postgres import PostgresLoader
from connectors.runner import prefetch
from tests.conftest import Database
from tests.loaders.conftest import make_job

BATCH = 1_000


def _batches(failing_at: int | None, count: int = 12) -> Iterator[pa.RecordBatch]:
    """`count` batches of BATCH rows; the source fails when asked for batch `failing_at`."""
    for number in range(count):
        if number == failing_at:
            raise SourceError(f"the source broke at batch {number}")
        ids = pa.array(range(number * BATCH, (number + 1) * BATCH), pa.int64())
        yield pa.record_batch({"id": ids, "name": pa.array([f"n{i}" for i in ids.to_pylist()])})


def _sessions(db: Database, application: str) -> int:
    """The server's sessions of that name, once closed ones had time to go (a backend exits
    just after its client hangs up)."""
    sql = sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
    for _ in range(50):
        with db.engine.connect() as conn:
            if not (count := int(conn.execute(sql, {"name": application}).scalar_one())):
                return 0
        time.sleep(0.1)
    return count


def _named(db: Database, application: str) -> sa.URL:
    return db.url.update_query_dict({"application_name": application})


@pytest.mark.parametrize("failing_at", [0, 1, 9])
def test_a_source_failing_at_any_batch_loads_nothing(postgres: Database, failing_at: int) -> None:
    """Batch 0 fails while the connection opens; 1 while COPY runs; 9 after earlier batches
    were already sent: each time nothing lands and no table is left."""
    job = make_job(postgres.table("orders"), {"id": [0]})
    job.batches = prefetch(_batches(failing_at))
    application = f"dagsmith-test-{failing_at}"
    with pytest.raises(SourceError, match=f"broke at batch {failing_at}"):
        PostgresLoader(_named(postgres, application)).load(job)
    with postgres.engine.connect() as conn:
        found = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": postgres.table("orders")})
        assert found.scalar_one() is None
    assert _sessions(postgres, application) == 0


def test_every_batch_read_ahead_lands_once_and_in_order(postgres: Database) -> None:
    job = make_job(postgres.table("orders"), {"id": [0]})
    job.batches = prefetch(_batches(None))
    result = PostgresLoader(postgres.url).load(job)
    assert result.rows_loaded == 12 * BATCH
    ids = [row[0] for row in postgres.rows(postgres.table("orders"), order_by="id")]
    assert ids == list(range(12 * BATCH))


def test_an_unreachable_target_is_reported_as_such_after_the_first_batch_was_read(
    postgres: Database,
) -> None:
    read: list[int] = []

    def counted() -> Iterator[pa.RecordBatch]:
        for batch in _batches(None, count=2):
            read.append(batch.num_rows)
            yield batch

    job = make_job("orders", {"id": [0]})
    job.batches = counted()
    nowhere = postgres.url.set(port=1)  # nothing listens on port 1
    with pytest.raises(TargetUnavailable, match="loading orders at"):
        PostgresLoader(nowhere).load(job)
    assert read == [BATCH]


def test_a_source_error_wins_over_an_unreachable_target(postgres: Database) -> None:
    """Both fail at once: the source's error is the one to fix first, and is raised."""
    job = make_job("orders", {"id": [0]})
    job.batches = _batches(0)
    with pytest.raises(SourceError, match="broke at batch 0"):
        PostgresLoader(postgres.url.set(port=1)).load(job)
