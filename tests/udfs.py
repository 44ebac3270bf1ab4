"""User functions for the transform tests, imported by path like a user's own package."""

from __future__ import annotations

import pandas as pd


def add_total(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `total = qty * 2` and drop rows whose country is 'XX'."""
    frame = frame[frame["country"] != "XX"].copy()
    frame["total"] = frame["qty"] * 2
    return frame


def unchanged(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the rows as they came."""
    return frame


def explode(frame: pd.DataFrame) -> pd.DataFrame:
    """Fail, as a buggy user function does."""
    raise ValueError(f"cannot handle {len(frame)} rows")


def not_a_frame(frame: pd.DataFrame) -> list[int]:
    """Return the wrong kind of object."""
    return [len(frame)]


NOT_CALLABLE = 42


CRASH = {"after_id": None}
"""Set `after_id` to make `crash_midway` fail on the batch holding that id."""


def crash_midway(frame: pd.DataFrame) -> pd.DataFrame:
    """Fail part-way through a stream, once earlier batches are already being loaded."""
    limit = CRASH["after_id"]
    if limit is not None and (frame["id"].astype(int) > limit).any():
        raise RuntimeError("the worker died half-way")
    return frame
