"""Run markers: which stream runs are under way, so a run that died unrecorded is found.

A run that fails records itself (`connectors.loaders.failed`); a run that is killed (SIGKILL,
the OOM killer, a lost worker) records nothing, and no callback fires. So each stream run
leaves a small marker in the staging area while it runs, and removes it once its load
committed or its failure was recorded:

    <DAGSMITH_STAGING_URL>/_running/<pipeline>/<run key>/<stream>.json

A marker that outlives its process is the trace of a killed run (`dagsmith diagnose`). The
marker is best effort: a staging area that cannot be written costs the run nothing.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import fsspec

from connectors.runtime import RunInfo
from connectors.staging import run_key, staging_url

RUNNING = "_running"
"""The staging area's folder of markers: no DAG id starts with `_`."""

log = logging.getLogger("dagsmith")


@dataclass(frozen=True)
class Marker:
    """A stream run under way (or killed): who runs it, where, since when."""

    run_id: str
    pipeline: str
    stream: str
    started_at: datetime
    host: str
    pid: int

    @property
    def alive(self) -> bool | None:
        """Whether its process still runs: None when it ran on another host (unknown)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # a process of another user holds the pid: it exists
            return True
        return True

    @property
    def status(self) -> str:
        """`running`, `killed` (its process is gone) or `unknown` (it ran on another host)."""
        return {True: "running", False: "killed", None: "unknown"}[self.alive]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, the time in ISO 8601."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "stream": self.stream,
            "started_at": self.started_at.isoformat(),
            "host": self.host,
            "pid": self.pid,
        }


def _path(run: RunInfo) -> str:
    root = staging_url().rstrip("/")
    return "/".join((root, RUNNING, run.pipeline, run_key(run.run_id), f"{run.stream}.json"))


def started(run: RunInfo) -> None:
    """Leave the marker of a stream run that begins."""
    marker = Marker(
        run.run_id, run.pipeline, run.stream, run.started_at, socket.gethostname(), os.getpid()
    )
    try:
        fs, path = fsspec.core.url_to_fs(_path(run))
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        with fs.open(path, "w") as handle:
            json.dump(marker.to_dict(), handle)
    except OSError as exc:
        log.debug("%s: no run marker: %s", run.stream, exc)


def ended(run: RunInfo) -> None:
    """Remove the marker of a stream run that committed or recorded its failure."""
    try:
        fs, path = fsspec.core.url_to_fs(_path(run))
        if fs.exists(path):
            fs.rm(path)
    except OSError as exc:
        log.debug("%s: run marker not removed: %s", run.stream, exc)


def markers(pipeline: str) -> list[Marker]:
    """The markers a pipeline's runs left, oldest first (unreadable ones are skipped)."""
    root = "/".join((staging_url().rstrip("/"), RUNNING, pipeline))
    fs, path = fsspec.core.url_to_fs(root)
    found: list[Marker] = []
    for name in fs.glob(f"{path}/*/*.json") if fs.exists(path) else []:
        try:
            with fs.open(name, "r") as handle:
                data = json.load(handle)
            data["started_at"] = datetime.fromisoformat(data["started_at"]).astimezone(UTC)
            found.append(Marker(**data))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.debug("run marker %s unreadable: %s", name, exc)
    return sorted(found, key=lambda marker: marker.started_at)


def lost(pipeline: str) -> list[Marker]:
    """The markers of a pipeline's runs whose process is not known to run: gone (killed) or
    on another host."""
    return [marker for marker in markers(pipeline) if marker.alive is not True]
