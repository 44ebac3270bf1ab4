"""Parquet staging between the phases of a stream's Airflow task: extract -> transform -> load.

Each stage writes its batches to one Parquet file under a per-run folder:

    <DAGSMITH_STAGING_URL>/<dag id>/<run key>/<stream>/<stage>.parquet
    <DAGSMITH_STAGING_URL>/<dag id>/<run key>/<stream>/<stage>.rejects.parquet
    <DAGSMITH_STAGING_URL>/<dag id>/<run key>/<stream>/<stage>.json   (counters, watermark)

The URL is any fsspec URL (a local folder by default; s3://... when workers do not share
a disk). A stage's manifest is written last: a retry of the stream's task reuses a stage
whose manifest and file are complete (`StreamStage.staged`) and redoes any other, which
overwrites its own files; the load removes the stream's folder once its transaction has
committed. The run's report stays
(`connectors.report`), out of that folder:

    <DAGSMITH_STAGING_URL>/_reports/<dag id>/<run key>/<stream>.html   (and .junit.xml)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fsspec
import pyarrow as pa

from connectors.errors import TransientError

if TYPE_CHECKING:
    import pyarrow.parquet as pq

STAGING_ENV = "DAGSMITH_STAGING_URL"
REPORTS = "_reports"
"""The staging area's folder of run reports: no DAG id starts with `_`, so no run's data."""

_NO_BATCH = b"dagsmith.no_batch"
"""Schema metadata of a staged file whose stage gave no batch at all."""


def staging_url() -> str:
    """The root of the staging area: `DAGSMITH_STAGING_URL`, or a folder in the temp dir."""
    return os.environ.get(STAGING_ENV) or os.path.join(tempfile.gettempdir(), "dagsmith-staging")


def run_key(run_id: str) -> str:
    """A path-safe, collision-free folder name for an Airflow run id (which holds ':' and '+')."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:80]
    return f"{safe}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class StreamStage:
    """The staging folder of one stream in one run."""

    root: str
    dag_id: str
    run_id: str
    stream: str

    @property
    def folder(self) -> str:
        """`<root>/<dag id>/<run key>/<stream>`."""
        return "/".join((self.root.rstrip("/"), self.dag_id, run_key(self.run_id), self.stream))

    def report(self, suffix: str) -> str:
        """Where the stream's run report is kept: `<root>/_reports/<dag id>/<run key>/<stream>`
        and `suffix`, which the load's `clean` leaves."""
        parts = (self.root.rstrip("/"), REPORTS, self.dag_id, run_key(self.run_id))
        return "/".join((*parts, self.stream + suffix))

    def _fs(self) -> tuple[fsspec.AbstractFileSystem, str]:
        fs, path = fsspec.core.url_to_fs(self.folder)
        return fs, path

    def write(self, stage: str, batches: Iterator[pa.RecordBatch]) -> int:
        """Write a stage's batches (at least one, possibly empty); returns the row count."""
        return self._write_file(f"{stage}.parquet", batches)

    def write_rejects(self, stage: str, table: pa.Table) -> None:
        """Keep the rows a stage rejected, to be written in the load's transaction.

        With none, a file left by an earlier try of the stage is removed.
        """
        if table.num_rows:
            self._write_file(f"{stage}.rejects.parquet", iter(table.to_batches()))
            return
        fs, path = self._fs()
        if fs.exists(f"{path}/{stage}.rejects.parquet"):
            fs.rm(f"{path}/{stage}.rejects.parquet")

    def write_manifest(self, stage: str, data: dict[str, Any]) -> None:
        """Small JSON facts about a stage (counters, the new watermark), written last: a stage
        with a manifest is complete (`staged`). Renamed into place, so never half-written."""
        fs, path = self._fs()
        fs.makedirs(path, exist_ok=True)
        with fs.open(f"{path}/{stage}.json.partial", "w") as handle:
            json.dump(data, handle, sort_keys=True)
        fs.mv(f"{path}/{stage}.json.partial", f"{path}/{stage}.json")

    def staged(self, stage: str, spec: str) -> dict[str, Any] | None:
        """The manifest of a stage an earlier try completed for the same spec (`spec`, the
        hash its manifest keeps) whose file holds the rows it counted; else None."""
        manifest = self.read_manifest(stage)
        if not manifest or manifest.get("spec") != spec:
            return None
        import pyarrow.parquet as pq  # see _write_file

        fs, path = self._fs()
        try:
            with fs.open(f"{path}/{stage}.parquet", "rb") as handle:
                rows = pq.ParquetFile(handle).metadata.num_rows
        except (FileNotFoundError, pa.ArrowInvalid):
            return None
        return manifest if rows == manifest.get("rows") else None

    def read(self, stage: str, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Stream a stage's rows back; the first batch carries the schema, even when empty."""
        import pyarrow.parquet as pq  # see _write_file

        fs, path = self._fs()
        try:
            handle = fs.open(f"{path}/{stage}.parquet", "rb")
        except FileNotFoundError:
            raise TransientError(
                f"staged data {self.folder}/{stage}.parquet is missing",
                hint=f"clear the upstream {stage} task so it stages its data again",
            ) from None
        with handle, pq.ParquetFile(handle) as parquet:
            schema = parquet.schema_arrow
            if (schema.metadata or {}).get(_NO_BATCH):
                return  # a quiet stream gave no batch: neither does its stage
            yielded = False
            for batch in parquet.iter_batches(batch_size=batch_rows):
                yielded = True
                yield batch
            if not yielded:
                yield pa.RecordBatch.from_pylist([], schema=schema)

    def read_rejects(self, stage: str) -> pa.Table | None:
        """The rows a stage rejected, or None when it staged none."""
        import pyarrow.parquet as pq  # see _write_file

        fs, path = self._fs()
        name = f"{path}/{stage}.rejects.parquet"
        if not fs.exists(name):
            return None
        with fs.open(name, "rb") as handle:
            return pq.read_table(handle)

    def read_manifest(self, stage: str) -> dict[str, Any]:
        """What `write_manifest` kept for a stage (empty when the stage wrote none)."""
        fs, path = self._fs()
        try:
            with fs.open(f"{path}/{stage}.json", "r") as handle:
                data: dict[str, Any] = json.load(handle)
        except FileNotFoundError:
            return {}
        return data

    def clean(self) -> None:
        """Remove the stream's staged files (after its load committed)."""
        fs, path = self._fs()
        if fs.exists(path):
            fs.rm(path, recursive=True)

    def _write_file(self, name: str, batches: Iterator[pa.RecordBatch]) -> int:
        """Write to a temporary name, then rename: a half-written file is never read."""
        # Imported where a stage is written or read: `dagsmith run` stages nothing, and
        # imports this module only for its run markers' paths (`connectors.running`).
        import pyarrow.parquet as pq

        fs, path = self._fs()
        fs.makedirs(path, exist_ok=True)
        partial = f"{path}/{name}.partial"
        rows = 0
        writer: pq.ParquetWriter | None = None
        with fs.open(partial, "wb") as handle:
            for batch in batches:
                if writer is None:
                    writer = pq.ParquetWriter(handle, batch.schema)
                writer.write_batch(batch)
                rows += batch.num_rows
            if writer is None:  # no batch at all (a quiet stream), told from an empty one
                writer = pq.ParquetWriter(handle, pa.schema([], metadata={_NO_BATCH: b"1"}))
            writer.close()
        fs.mv(partial, f"{path}/{name}")
        return rows
