"""The host name a test worker reports to Airflow (`[core] hostname_callable`).

Two Celery workers on one machine share its host name; each test worker sets
`DAGSMITH_TEST_HOSTNAME`, so a task instance's `hostname` names the worker that ran it.
"""

from __future__ import annotations

import os
import socket


def from_env() -> str:
    """`DAGSMITH_TEST_HOSTNAME`, or the machine's name where it is not set."""
    return os.environ.get("DAGSMITH_TEST_HOSTNAME") or socket.getfqdn()
