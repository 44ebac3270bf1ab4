"""Log lines that say which pipeline, stream and run they belong to, as JSON on request.

The runner enters `stream_context(run)` around each stream; `ContextFilter` copies the
pipeline, stream and run id of the current context onto every record, and `JsonFormatter`
writes one JSON object per line, for log collectors (Loki, Elasticsearch, CloudWatch).
`DAGSMITH_LOG_FORMAT=json` (or `dagsmith --log-format json`) turns it on; the default is
text for people. Every run ends with one summary line (`log_run_summary`). Every line is
masked: no secret a connection holds, in any encoding, reaches a log (see `masking`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from connectors.errors import SpecError
from connectors.masking import MaskingFilter

if TYPE_CHECKING:  # the CLI configures logging before it imports the runtime
    from connectors.results import RunSummary
    from connectors.runtime import RunInfo

log = logging.getLogger("dagsmith")

LOG_FORMAT_ENV = "DAGSMITH_LOG_FORMAT"
FORMATS = ("text", "json")
FIELDS = ("pipeline", "stream", "run_id")

_current: ContextVar[RunInfo | None] = ContextVar("dagsmith_run", default=None)
# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


@contextmanager
def stream_context(run: RunInfo) -> Iterator[None]:
    """Tag every log line in this block with the run's pipeline, stream and run id."""
    token = _current.set(run)
    try:
        yield
    finally:
        _current.reset(token)


class ContextFilter(logging.Filter):
    """Add `pipeline`, `stream` and `run_id` to each record (None outside a run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only adds the fields an `extra=` did not set."""
        run = _current.get()
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, getattr(run, name) if run is not None else None)
        return True


SUMMARIZED = "summarized"
"""Set (`extra={SUMMARIZED: True}`) on a record whose news the run's summary repeats: a
console that prints the summary drops it (`Unsummarized`), a log collector keeps it."""


class Unsummarized(logging.Filter):
    """Drop the records a run's printed summary says again (a stream's failure)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record marked SUMMARIZED."""
        return not getattr(record, SUMMARIZED, False)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, run fields and extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise a record; values JSON cannot hold are written as text."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def resolve_format(flag: str | None = None) -> str:
    """The log format: the flag, else `DAGSMITH_LOG_FORMAT`, else `text`."""
    chosen = (flag or os.environ.get(LOG_FORMAT_ENV) or "text").strip().lower()
    if chosen not in FORMATS:
        raise SpecError(
            f"unknown log format {chosen!r}",
            hint=f"use one of {', '.join(FORMATS)} (--log-format or {LOG_FORMAT_ENV})",
        )
    return chosen


def configure(level: int, fmt: str, text_handler: logging.Handler | None = None) -> None:
    """Install the root handler for a command-line process.

    Args:
        level: The level for text logs; JSON logs go down to INFO at least, since a
            collector wants the run summary line.
        fmt: `text` or `json` (see `resolve_format`).
        text_handler: The handler for text logs (the CLI's console); default: stderr.
    """
    if fmt == "json":
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        level = min(level, logging.INFO)
    else:
        handler = text_handler or logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(MaskingFilter())
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler])


def log_run_summary(summary: RunSummary) -> None:
    """Log one line at the end of a run: the outcome and counts, per stream in `summary`."""
    data = summary.to_dict()
    streams = data["streams"]
    failed = [s["stream"] for s in streams if s["status"] == "failed"]
    log.info(
        "run %s of %s %s: %d stream(s), %d read, %d rejected, %d loaded in %.2f s",
        summary.run_id,
        summary.pipeline,
        "ok" if summary.ok else f"failed ({', '.join(failed)})",
        len(streams),
        sum(s["rows_read"] for s in streams),
        sum(s["rows_rejected"] for s in streams),
        sum(s["rows_loaded"] for s in streams),
        sum(s["seconds"] for s in streams),
        extra={
            "event": "run_summary",
            "pipeline": summary.pipeline,
            "stream": None,
            "run_id": summary.run_id,
            "summary": data,
        },
    )
