"""Generic SQLAlchemy loader: SQLite, MySQL/MariaDB (PyMySQL) and other SQLAlchemy URLs.

Flow: DDL first, committed (MariaDB commits implicitly on DDL, so no CREATE may run
inside the load's transaction): schema, target, rejects, runs, state and, when
needed, a TEMPORARY staging table (which commits nothing). Then one transaction:
skip a run id already recorded, insert batches with executemany (straight into the
target for a plain append or replace, else into staging), `before_commit`, merge,
rejects, run record, state. SQLite has no schemas: a `schema.table` target is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from connectors.errors import LoadError, TargetUnavailable
from connectors.loaders import sql_merge, tables
from connectors.loaders.base import LoadJob, LoadResult
from connectors.loaders.prepare import (
    SEQ,
    Extract,
    dedupe_passes,
    mismatches,
    nested_as_json,
    open_extract,
    reject_null_keys,
    rejects_table,
    run_record,
    skip_empty_replace,
    split_table,
)
from connectors.runtime import log

STAGE = "_dagsmith_stage"
_TRANSIENT_MYSQL = {1040, 1205, 1213, 2002, 2003, 2006, 2013}
"""Too many connections, lock wait timeout, deadlock, cannot connect, server gone/lost."""


class SqlLoader:
    """Loads through SQLAlchemy Core with the driver's executemany.

    Args:
        url: The target's SQLAlchemy URL (its password is never logged or raised).
    """

    def __init__(self, url: sa.URL) -> None:
        self._url = url
        # One connection per load; temporary tables die with it.
        self._engine = sa.create_engine(url, poolclass=sa.NullPool)
        self._dialect = self._engine.dialect.name

    def load(self, job: LoadJob) -> LoadResult:
        """DDL, then one transaction for the rows, the rejects, the run record and the state."""
        extract = open_extract(job)
        schema, _ = split_table(job.load.table)
        if schema and self._dialect == "sqlite":
            raise LoadError(
                f"{job.load.table}: SQLite has no schemas",
                hint="name the table without a schema for a SQLite target",
            )
        with self._errors(job.load.table), self._engine.connect() as conn:
            load = _Load(conn, job, extract, self._dialect)
            result = load.run()
        job.stats.rows_loaded = result.rows_loaded
        return result

    @contextmanager
    def _errors(self, table: str) -> Iterator[None]:
        """The one place where this driver's errors become dagsmith errors."""
        try:
            yield
        except sa.exc.DBAPIError as exc:
            text = str(exc.orig).strip() or type(exc.orig).__name__
            where = f"loading {table} at {self._url.render_as_string(hide_password=True)}"
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if (
                exc.connection_invalidated
                or code in _TRANSIENT_MYSQL
                or "database is locked" in text
            ):
                raise TargetUnavailable(f"{where} failed: {text}", hint="retry later") from exc
            raise LoadError(
                f"{where} failed: {text}",
                hint="check the rows and the table's columns and constraints",
            ) from exc


class _Load:
    """One load's state across its steps."""

    def __init__(self, conn: sa.Connection, job: LoadJob, extract: Extract, dialect: str) -> None:
        self.conn, self.job, self.extract, self.dialect = conn, job, extract, dialect
        self.schema, self.name = split_table(job.load.table)
        self.metadata = tables.new_metadata(dialect)
        self.runs = tables.runs_table(self.metadata, self.schema)
        self.state = tables.state_table(self.metadata, self.schema)
        self.rejects = tables.rejects_table(self.metadata, self.schema, rejects_table(self.name))
        self.dedupes = dedupe_passes(job)
        self.direct = job.load.mode != "upsert" and not self.dedupes

    def run(self) -> LoadResult:
        """DDL (committed), then the transaction."""
        target = self._ddl()
        with self.conn.begin():
            run = self.job.run
            if self._done():
                log.info("%s: run %s is already loaded; skipping", run.stream, run.run_id)
                return LoadResult(rows_loaded=0, skipped=True)
            counts = self._write(target)
            written = self._bookkeeping(counts)
        return LoadResult(
            rows_loaded=counts["loaded"],
            inserted=counts["inserted"],
            updated=counts["updated"],
            unchanged=counts["loaded"] - counts["inserted"] - counts["updated"],
            deduplicated=counts["staged"] - counts["loaded"],
            rejects_written=written,
        )

    def _ddl(self) -> sa.TableClause:
        """Create what is missing, check the target, create staging; commit."""
        inspector = sa.inspect(self.conn)
        if self.schema and not inspector.has_schema(self.schema):
            self.conn.execute(sa.schema.CreateSchema(self.schema))
        keys = self.job.load.keys
        tables.target_table(self.metadata, self.schema, self.name, self.extract, keys)
        self.metadata.create_all(self.conn)
        runs = sa.inspect(self.conn).get_columns(self.runs.name, self.schema)
        existing = {column["name"] for column in runs}
        for alter in tables.added_columns(self.runs, existing, self.conn.dialect):
            self.conn.execute(sa.text(alter))
        self.conn.commit()
        reflected = sa.inspect(self.conn).get_columns(self.name, schema=self.schema)
        if self.dialect == "mysql":
            # SQLAlchemy's MySQL reflection leaves a backtick in a name doubled.
            reflected = [{**c, "name": c["name"].replace("``", "`")} for c in reflected]
        mismatches(
            self.extract, [sql_merge.target_column(c) for c in reflected], self.job.load.table
        )
        types = {c["name"]: c["type"] for c in reflected if c["name"] in self.extract.types}
        if not self.direct:
            stage = sa.Table(
                STAGE,
                sa.MetaData(),
                sa.Column(SEQ, sa.BigInteger()),
                *(sa.Column(n, t) for n, t in types.items()),
                prefixes=["TEMPORARY"],
            )
            stage.create(self.conn)
        self.conn.commit()
        return sql_merge.dml_table(self.name, self.schema, types)

    def _done(self) -> bool:
        run = self.job.run
        query = sa.select(self.runs.c.run_id).where(
            self.runs.c.run_id == run.run_id,
            self.runs.c.pipeline == run.pipeline,
            self.runs.c.stream == run.stream,
        )
        return self.conn.execute(query.with_for_update()).first() is not None

    def _write(self, target: sa.TableClause) -> dict[str, int]:
        """Insert the rows (into the target or staging); `before_commit`; merge."""
        mode = self.job.load.mode
        if self.direct:
            if skip_empty_replace(self.job, 0 if self.extract.empty else 1):
                self.job.before_commit()
                return {"staged": 0, "loaded": 0, "inserted": 0, "updated": 0}
            if mode == "replace":
                self.conn.execute(sa.delete(target))
            rows = self._insert(target)
            self.job.before_commit()
            return {"staged": rows, "loaded": rows, "inserted": rows, "updated": 0}
        stage = sql_merge.dml_table(STAGE, None, {SEQ: sa.BigInteger(), **_types(target)})
        staged = self._insert(stage, numbered=True)
        self.job.before_commit()
        return {"staged": staged, **self._merge(target, stage, staged)}

    def _merge(self, target: sa.TableClause, stage: sa.TableClause, staged: int) -> dict[str, int]:
        rows = sql_merge.source(stage, list(self.extract.types), self.dedupes)
        total = int(
            self.conn.execute(sa.select(sa.func.count()).select_from(rows.subquery())).scalar_one()
        )
        if self.job.load.mode == "upsert":
            keys = self.job.load.keys
            found, changed = sql_merge.upsert_counts(self.conn, target, rows, keys)
            self.conn.execute(sql_merge.upsert(self.dialect, target, rows, keys))
            return {"loaded": total, "inserted": total - found, "updated": changed}
        if skip_empty_replace(self.job, staged):
            return {"loaded": 0, "inserted": 0, "updated": 0}
        if self.job.load.mode == "replace":
            self.conn.execute(sa.delete(target))
        self.conn.execute(sa.insert(target).from_select(list(self.extract.types), rows))
        return {"loaded": total, "inserted": total, "updated": 0}

    def _insert(self, table: sa.TableClause, numbered: bool = False) -> int:
        """executemany, batch by batch; returns the number of rows."""
        batches = self.extract.batches
        if self.job.load.mode == "upsert":
            batches = reject_null_keys(batches, self.job)
        count = 0
        for batch in batches:
            rows = _python_rows(nested_as_json(batch))
            if numbered:
                for seq, row in enumerate(rows, start=count):
                    row[SEQ] = seq
            if rows:
                self.conn.execute(sa.insert(table), rows)
            count += len(rows)
        return count

    def _bookkeeping(self, counts: dict[str, int]) -> int:
        """Rejects, run record and state, in the load's transaction; returns rejects written."""
        rejected = self.job.rejects.table().to_pylist()
        if rejected:
            self.conn.execute(sa.insert(self.rejects), rejected)
        record = run_record(self.job, counts)
        record.update({k: _utc(record[k]) for k in ("started_at", "finished_at")})
        self.conn.execute(sa.insert(self.runs), [record])
        run, state = self.job.run, self.state
        for key, value in (self.job.state or {}).items():
            mine = (state.c.pipeline == run.pipeline, state.c.stream == run.stream)
            self.conn.execute(sa.delete(state).where(*mine, state.c.key == key))
            self.conn.execute(
                sa.insert(state),
                [
                    {
                        "pipeline": run.pipeline,
                        "stream": run.stream,
                        "key": key,
                        "value": value,
                        "updated_at": record["finished_at"],
                    }
                ],
            )
        return len(rejected)


def _types(table: sa.TableClause) -> dict[str, sa.types.TypeEngine[Any]]:
    return {c.name: c.type for c in table.columns}


def _python_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """Rows as dicts; zoned timestamps become naive UTC (how MariaDB and SQLite store them)."""
    arrays = [
        a.cast(pa.timestamp(a.type.unit)) if pa.types.is_timestamp(a.type) and a.type.tz else a
        for a in batch.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names).to_pylist()


def _utc(value: datetime) -> datetime:
    """A naive UTC datetime (naive input is taken as UTC already)."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
