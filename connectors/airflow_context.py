"""Whether to ask Airflow (its connections, Variables and secrets backends) for settings.

Inside an Airflow task, and while Airflow parses a DAG file (`asking_airflow`), whose DAG
processor reads the deployment's connections and Variables; never in a plain `dagsmith`
process, which would pay Airflow's imports for nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ASK_AIRFLOW: ContextVar[bool] = ContextVar("ask_airflow", default=False)


@contextmanager
def asking_airflow() -> Iterator[None]:
    """Ask Airflow's store outside a task too (while a DAG file is parsed)."""
    token = _ASK_AIRFLOW.set(True)
    try:
        yield
    finally:
        _ASK_AIRFLOW.reset(token)


def in_airflow() -> bool:
    """Whether Airflow's store is the first place to look."""
    return "AIRFLOW_CTX_DAG_ID" in os.environ or _ASK_AIRFLOW.get()
