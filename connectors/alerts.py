"""Run alerts from a spec's `alerts` and its environment's: email through Airflow's SMTP
settings, or a webhook.

A webhook's URL lives in an environment variable or a connection, never in the spec or the
DAG. An alert that cannot be sent is logged, never raised: a callback that fails would hide
the failure it reports. Correctness never depends on alerts (they do not fire on SIGKILL).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import requests

from connectors import dagfile, environments
from connectors.connections import get_connection
from connectors.errors import DagsmithError
from connectors.sources.rest import base_url
from connectors.spec.models import Alerts, EmailAlert, Pipeline, WebhookAlert

log = logging.getLogger("dagsmith")

Event = Literal["failure", "success"]
TIMEOUT_SECONDS = 10


def notify(spec_json: str, event: Event, context: Mapping[str, Any], *, dag_file: str) -> None:
    """Send the alerts for `event` of the spec and of the deployment's environment; called
    by the generated DAG's callbacks."""
    project_dir = dagfile.project_dir(dag_file)
    message = describe(event, context)
    for alert in _targets(Pipeline.model_validate_json(spec_json).alerts, project_dir, event):
        try:
            if isinstance(alert, EmailAlert):
                _email(alert.email, message)
            else:
                _post(webhook_url(alert, project_dir), message)
        except (DagsmithError, requests.RequestException, OSError) as exc:
            log.error("could not send the %s alert (%s): %s", event, _label(alert), _reason(exc))


def describe(event: Event, context: Mapping[str, Any]) -> dict[str, Any]:
    """The alert's content: which DAG, run and task, and the error when there is one."""
    dag = context.get("dag")
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    dag_id = getattr(dag, "dag_id", None)
    run_id = context.get("run_id")
    task_id = getattr(ti, "task_id", None)
    where = f"{dag_id} run {run_id}" + (f" task {task_id}" if task_id else "")
    text = f"dagsmith: {where} {'failed' if event == 'failure' else 'succeeded'}"
    if error is not None:
        text += f": {str(error)[:500]}"
    return {"text": text, "event": event, "dag_id": dag_id, "run_id": run_id, "task_id": task_id}


def webhook_url(alert: WebhookAlert, project_dir: Path) -> str:
    """The webhook's URL, from its environment variable or connection."""
    if alert.webhook_env is not None:
        url = os.environ.get(alert.webhook_env)
        if not url:
            raise DagsmithError(f"environment variable {alert.webhook_env} is not set")
        return url
    assert alert.webhook_conn is not None  # the spec requires one of the two
    conn = get_connection(alert.webhook_conn, project_dir)
    if conn.conn_type in ("http", "https") or "://" in (conn.host or ""):
        return base_url(conn)
    port = f":{conn.port}" if conn.port else ""
    return f"https://{conn.host}{port}/{conn.schema or ''}"


def _targets(alerts: Alerts, project_dir: Path, event: Event) -> list[EmailAlert | WebhookAlert]:
    """The spec's routes for the event, then its environment's (an environment that cannot
    be read adds none: the spec's alert still goes out)."""
    try:
        extra = environments.active(project_dir).settings.alerts
    except DagsmithError as exc:
        log.error("alerts: the environment's routes are skipped: %s", exc)
        extra = Alerts()
    routes = [alerts, extra]
    return [a for r in routes for a in (r.on_failure if event == "failure" else r.on_success)]


def _email(address: str, message: dict[str, Any]) -> None:
    from airflow.utils.email import send_email  # Airflow's SMTP settings, on a worker

    send_email(to=[address], subject=message["text"][:200], html_content=message["text"])


def _post(url: str, message: dict[str, Any]) -> None:
    response = requests.post(url, json=message, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()


def _reason(exc: Exception) -> str:
    """Why sending failed, without the URL that requests puts in its messages."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.RequestException):
        return type(exc).__name__
    return str(exc)


def _label(alert: EmailAlert | WebhookAlert) -> str:
    """Names the alert without its URL (the URL may hold a token)."""
    if isinstance(alert, EmailAlert):
        return f"email {alert.email}"
    return f"webhook {alert.webhook_env or alert.webhook_conn}"
