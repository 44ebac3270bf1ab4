"""Generic SQLAlchemy loader: SQLite, MySQL/MariaDB (PyMySQL) and other SQLAlchemy URLs.

Flow: DDL (schema, target, rejects, runs, state and, when needed, a TEMPORARY staging
table), inside the load's transaction on SQLite; MariaDB commits on DDL, so there it
runs first, under the table's named lock, and a failed run drops the tables it created
(sql_ddl). Then the transaction: skip a run id already recorded, delete the rows an
earlier load of the same data interval appended, insert batches (straight into the
target for a plain append or replace, else into staging) as files where the dialect
takes them (MariaDB: LOAD DATA LOCAL INFILE, `sql_bulk`), else with executemany,
`before_commit`, dedupe the staged rows in place, merge, rejects, run record, state.
SQLite has no schemas: a `schema.table` target is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from connectors import dberrors, dialects
from connectors.dialects import Dialect, dialect_for
from connectors.errors import DagsmithError, LoadError
from connectors.loaders import sql_bulk, sql_ddl, sql_merge, tables
from connectors.loaders.base import LoadJob, LoadResult
from connectors.loaders.prepare import (
    INTERVAL,
    SEQ,
    Extract,
    Passes,
    SortedKey,
    dedupe_passes,
    keyed_by_interval,
    mismatches,
    nested_as_json,
    open_extract,
    reject_null_keys,
    rejects_table,
    run_record,
    settle,
    skip_empty_replace,
    split_table,
    utc_naive,
)
from connectors.runtime import log

STAGE = "_dagsmith_stage"


class SqlLoader:
    """Loads through SQLAlchemy Core with the driver's executemany.

    Args:
        url: The target's SQLAlchemy URL (its password is never logged or raised).
    """

    def __init__(self, url: sa.URL) -> None:
        self._url = url
        # One connection per load; temporary tables die with it.
        self._engine = sa.create_engine(url, poolclass=sa.NullPool)
        self._dialect = dialect_for(self._engine)
        self._dialect.prepare_engine(self._engine)

    def load(self, job: LoadJob) -> LoadResult:
        """DDL, then one transaction for the rows, the rejects, the run record and the state."""
        extract = open_extract(job, self._dialect)
        schema, _ = split_table(job.load.table)
        if schema and not self._dialect.schemas:
            label = self._dialect.label
            raise LoadError(
                f"{job.load.table}: {label} has no schemas",
                hint=f"name the table without a schema for a {label} target",
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
            raise translate(exc, f"loading {table} at {self._url.render_as_string(True)}") from exc


def translate(exc: sa.exc.DBAPIError, where: str) -> DagsmithError:
    """A SQLAlchemy driver error as TargetUnavailable (transient) or LoadError (permanent)."""
    text = str(exc.orig).strip() or type(exc.orig).__name__
    code = dberrors.driver_code(exc.orig)
    # An "operational" error without a code is a connection that failed, except where the
    # driver calls most of its errors so (SQLite).
    raised_by = dialects.raised_by(exc.orig)
    lost_without_code = raised_by is None or raised_by.lost_without_code
    lost = exc.connection_invalidated or (
        code is None and isinstance(exc, sa.exc.OperationalError) and lost_without_code
    )
    return dberrors.as_error(where, text, code, lost=lost)


class _Load:
    """One load's state across its steps."""

    def __init__(
        self, conn: sa.Connection, job: LoadJob, extract: Extract, dialect: Dialect
    ) -> None:
        self.conn, self.job, self.extract, self.dialect = conn, job, extract, dialect
        self.schema, self.name = split_table(job.load.table)
        self.metadata = tables.new_metadata(dialect.name)
        self.runs = tables.runs_table(self.metadata, self.schema)
        self.state = tables.state_table(self.metadata, self.schema)
        self.rejects = tables.rejects_table(
            self.metadata, self.schema, rejects_table(self.name, dialect)
        )
        keys = job.load.keys
        self.target = tables.target_table(self.metadata, self.schema, self.name, extract, keys)
        self.dedupes = dedupe_passes(job)
        self.direct = job.load.mode != "upsert" and not self.dedupes
        self.added: list[str] = []
        """Columns the contract added to the table (dropped again if a MariaDB load fails)."""
        self.stage: sa.Table | None = None
        """The staging table, once made (not for a direct load)."""

    def run(self) -> LoadResult:
        """DDL in the transaction where it can be undone, else before it (see sql_ddl)."""
        if self.dialect.transactional_ddl:
            with self.conn.begin():
                return self._transaction(self._ddl())
        with sql_ddl.table_lock(self.conn, self.job.load.table):
            created = sql_ddl.missing(self.conn, [self.target, self.rejects])
            try:
                target = self._ddl()
                self.conn.commit()
                with self.conn.begin():
                    return self._transaction(target)
            except BaseException:
                sql_ddl.drop_created(self.conn, created)
                if self.target not in created:
                    sql_ddl.drop_columns(self.conn, self.target, self.added)
                raise

    def _transaction(self, target: sa.TableClause) -> LoadResult:
        """Skip a committed run id; write the rows, the rejects, the record and the state."""
        run = self.job.run
        if self._done():
            log.info("%s: run %s is already loaded; skipping", run.stream, run.run_id)
            return LoadResult(rows_loaded=0, skipped=True)
        replaced = 0
        if keyed_by_interval(self.job):
            gone = self.conn.execute(
                sa.delete(target).where(target.c[INTERVAL] == self.job.interval)
            )
            replaced = gone.rowcount
        counts = self._write(target)
        written = self._bookkeeping(counts)
        return LoadResult(
            rows_loaded=counts["loaded"],
            inserted=counts["inserted"],
            updated=counts["updated"],
            unchanged=counts["loaded"] - counts["inserted"] - counts["updated"],
            deduplicated=counts["staged"] - counts["loaded"],
            rejects_written=written,
            replaced=replaced,
        )

    def _ddl(self) -> sa.TableClause:
        """Create what is missing, check the target, create staging (nothing committed)."""
        if self.schema and not sa.inspect(self.conn).has_schema(self.schema):
            # IF NOT EXISTS: a failed run's record (`failed`) may have made it meanwhile.
            self.conn.execute(sa.schema.CreateSchema(self.schema, if_not_exists=True))
        absent = sql_ddl.missing(self.conn, [self.target, self.rejects, self.runs, self.state])
        sql_ddl.create(self.conn, absent)
        if self.runs not in absent:
            # A runs table of an older dagsmith lacks newer counters (rows_filtered).
            runs = sa.inspect(self.conn).get_columns(self.runs.name, self.schema)
            existing = {column["name"] for column in runs}
            for alter in tables.added_columns(self.runs, existing, self.conn.dialect):
                self.conn.execute(sa.text(alter))
        reflected = sa.inspect(self.conn).get_columns(self.name, schema=self.schema)
        if INTERVAL in self.extract.types and all(c["name"] != INTERVAL for c in reflected):
            # A table made before the load keyed its rows by interval: add the key column.
            sql_ddl.add_column(self.conn, self.target, INTERVAL)
            reflected = sa.inspect(self.conn).get_columns(self.name, schema=self.schema)
        reflected = [{**c, "name": self.dialect.reflected_name(c["name"])} for c in reflected]
        settled = settle(
            self.extract, [sql_merge.target_column(c) for c in reflected], self.job, self.dialect
        )
        self.extract = settled.extract
        for column, ctype in settled.added.items():
            sql_ddl.add_column(self.conn, self.target, column, self.dialect.ddl_type(ctype))
            self.added.append(column)
        if settled.added:
            reflected = sa.inspect(self.conn).get_columns(self.name, schema=self.schema)
            reflected = [{**c, "name": self.dialect.reflected_name(c["name"])} for c in reflected]
        described = [sql_merge.target_column(c) for c in reflected]
        mismatches(self.extract, described, self.job.load.table, self.dialect)
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
            self.stage = stage
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
        made = self.stage
        assert made is not None  # _ddl made it: the load is not direct
        watch = SortedKey(_watched_key(self.dedupes, made, self.job.load.keys))
        staged = self._insert(stage, numbered=True, watch=watch)
        self.job.before_commit()
        deleted = sql_merge.dedupe(self.conn, made, watch.needed(self.dedupes))
        return {"staged": staged, **self._merge(target, stage, staged - deleted)}

    def _merge(self, target: sa.TableClause, stage: sa.TableClause, total: int) -> dict[str, int]:
        """Upsert, replace or append the deduplicated staged rows (`total` of them)."""
        rows = sql_merge.source(stage, list(self.extract.types))
        if self.job.load.mode == "upsert":
            keys = self.job.load.keys
            upsert = self.dialect.upsert(target, rows, keys)
            if self.dialect.upsert_counts_updates:
                found = sql_merge.existing(self.conn, target, rows, keys)
                changed = self.dialect.updated_rows(self.conn.execute(upsert).rowcount, total)
            else:
                found, changed = sql_merge.upsert_counts(self.conn, target, rows, keys)
                self.conn.execute(upsert)
            return {"loaded": total, "inserted": total - found, "updated": changed}
        if skip_empty_replace(self.job, total):
            return {"loaded": 0, "inserted": 0, "updated": 0}
        if self.job.load.mode == "replace":
            self.conn.execute(sa.delete(target))
        self.conn.execute(sa.insert(target).from_select(list(self.extract.types), rows))
        return {"loaded": total, "inserted": total, "updated": 0}

    def _insert(
        self, table: sa.TableClause, numbered: bool = False, watch: SortedKey | None = None
    ) -> int:
        """Batch by batch, as a file where the dialect takes one, else by executemany;
        returns the number of rows. `watch` checks a key on the way."""
        batches = self.extract.batches
        if self.job.load.mode == "upsert":
            batches = reject_null_keys(batches, self.job)
        if watch is not None:
            batches = watch.watch(batches)
        count = 0
        texts = {c.name for c in table.columns if isinstance(c.type, sa.String)}
        stager = self.dialect.file_stager(self.conn)
        with sql_bulk.TextFile(stager, self.job.load.table) as file:
            for batch in batches:
                rows = nested_as_json(batch)
                if numbered:
                    seq = np.arange(count, count + rows.num_rows, dtype=np.int64)
                    rows = rows.append_column(SEQ, pa.array(seq))
                if rows.num_rows and not file.send(table, rows, texts, count):
                    self.conn.execute(sa.insert(table), _python_rows(rows, texts))
                count += rows.num_rows
        return count

    def _bookkeeping(self, counts: dict[str, int]) -> int:
        """Rejects, run record and state, in the load's transaction; returns rejects written."""
        rejected = self.job.rejects.table().to_pylist()
        if rejected:
            self.conn.execute(sa.insert(self.rejects), rejected)
        record = run_record(self.job, counts)
        record.update({k: utc_naive(record[k]) for k in ("started_at", "finished_at")})
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


def _watched_key(passes: Passes, stage: sa.Table, keys: list[str]) -> str | None:
    """A one-column dedupe key worth proving unique while staging, if there is one: an
    upsert key (never NULL once staged) and an integer staged as an integer (two texts Arrow
    tells apart, the server's collation may call equal)."""
    one = (k[0] for k, _ in passes if len(k) == 1 and k == keys)
    return next((k for k in one if isinstance(stage.c[k].type, sa.Integer)), None)


def _types(table: sa.TableClause) -> dict[str, sa.types.TypeEngine[Any]]:
    return {c.name: c.type for c in table.columns}


def _python_rows(batch: pa.RecordBatch, texts: set[str]) -> list[dict[str, Any]]:
    """Rows as dicts; zoned timestamps become naive UTC (how MariaDB and SQLite store them),
    and values bound into a text column (`texts`, a column the dialect `holds` them in) their
    text: a date as ISO 8601, a time to the microsecond, a decimal digit for digit."""
    arrays = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        bound = column
        if pa.types.is_timestamp(column.type):
            # As text, to the microsecond, as the SQLite target's native path writes it.
            unit = "us" if name in texts else column.type.unit
            bound = column.cast(pa.timestamp(unit), safe=False)
        arrays.append(bound.cast(pa.string()) if name in texts else bound)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names).to_pylist()
