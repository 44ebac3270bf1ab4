"""What a run did: the outcome of each stream and of the whole pipeline run.

The runner fills them in, the run's last log line and the CLI report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from connectors.connections import Target
from connectors.errors import DagsmithError
from connectors.loaders.base import LoadResult
from connectors.runtime import StreamStats


@dataclass
class StreamResult:
    """The outcome of one stream."""

    stream: str
    table: str
    mode: str
    stats: StreamStats
    load: LoadResult | None = None
    error: DagsmithError | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Literal["ok", "skipped", "failed"]:
        """`skipped` means this run id had already been committed."""
        if self.error is not None:
            return "failed"
        return "skipped" if self.load is not None and self.load.skipped else "ok"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json` and run logs."""
        load = self.load or LoadResult(rows_loaded=0)
        return {
            "stream": self.stream,
            "table": self.table,
            "mode": self.mode,
            "status": self.status,
            "rows_read": self.stats.rows_read,
            "rows_rejected": self.stats.rows_rejected,
            "rows_filtered": self.stats.rows_filtered,
            "rows_loaded": load.rows_loaded,
            "inserted": load.inserted,
            "updated": load.updated,
            "deduplicated": load.deduplicated,
            "rejected_by_rule": dict(self.stats.by_rule),
            "seconds": round(self.seconds, 3),
            "stage_seconds": {k: round(v, 3) for k, v in self.stats.seconds.items()},
            "error": str(self.error) if self.error else None,
        }


@dataclass
class RunSummary:
    """The outcome of a pipeline run."""

    pipeline: str
    run_id: str
    target: Target
    streams: list[StreamResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every stream succeeded (or was already committed)."""
        return all(result.error is None for result in self.streams)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `--json`; the target's password is masked."""
        return {
            "pipeline": self.pipeline,
            "run_id": self.run_id,
            "target": self.target.label,
            "embedded_target": self.target.embedded,
            "ok": self.ok,
            "streams": [result.to_dict() for result in self.streams],
        }
