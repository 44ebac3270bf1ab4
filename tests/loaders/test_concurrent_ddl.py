"""Two streams' first loads into one fresh PostgreSQL schema, at the same moment, as two
Airflow workers run them: both create the schema's bookkeeping tables, and both succeed."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from connectors.loaders import loader_for
from connectors.loaders.base import LoadResult
from tests.conftest import PG_URL
from tests.loaders.conftest import make_job

pytestmark = pytest.mark.postgres


def test_first_loads_of_two_tables_into_one_new_schema_at_once_both_commit() -> None:
    engine = sa.create_engine(PG_URL)
    schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(4)]
    try:
        for schema in schemas:  # a few rounds: each is a fresh race on CREATE ... IF NOT EXISTS
            results = _at_once(schema, ("orders", "refunds"))
            assert [r.rows_loaded if isinstance(r, LoadResult) else r for r in results] == [2, 2]
            with engine.connect() as conn:
                runs = conn.exec_driver_sql(f'SELECT count(*) FROM "{schema}"._dagsmith_runs')
                assert runs.scalar() == 2
    finally:
        with engine.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def _at_once(schema: str, tables: tuple[str, ...]) -> list[LoadResult | BaseException]:
    """Load each table from its own thread, all released together; each one's outcome."""
    start = threading.Barrier(len(tables))
    results: list[LoadResult | BaseException] = [RuntimeError("not run")] * len(tables)

    def load(n: int) -> None:
        data = {"id": [1, 2], "name": ["a", "b"]}
        job = make_job(f"{schema}.{tables[n]}", data, run_id=f"run-{n}")
        loader = loader_for(sa.make_url(PG_URL))
        start.wait(timeout=30)
        try:
            results[n] = loader.load(job)
        except BaseException as exc:  # the outcome is asserted by the test
            results[n] = exc

    threads = [threading.Thread(target=load, args=(n,)) for n in range(len(tables))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
