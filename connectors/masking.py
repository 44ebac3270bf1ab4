"""Keep secrets out of messages and logs, whatever form they take on the way.

A secret is masked in every form a request or an echoing server may give it: as is,
URL-encoded, JSON-escaped and base64-encoded; a login and password also as the base64
of `login:password` that an HTTP Basic header carries (a `Bearer` header holds the token
as is). Every masker's secrets also join the process's own masker (`register`), which
the log handlers, the rejects and Airflow's task log masker (inside a task) use.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from urllib.parse import quote, quote_plus

MASK = "***"
SECRET_EXTRAS = ("token", "api_key", "password", "client_secret", "secret_key", "access_token")
"""A connection's extras that hold secrets (its password always does)."""
QUOTED_CHARS = 200
"""The most characters of a response body that an error message quotes."""

# urllib3 logs every request line, query string included, at DEBUG; websockets logs the
# opening handshake's headers (Authorization among them) at DEBUG.
_LOGGERS = ("urllib3.connectionpool", "websockets.client")


def derived_forms(secret: str) -> set[str]:
    """The forms a secret takes in URLs, JSON and base64 (each as is too)."""
    coded = {
        base64.b64encode(secret.encode()).decode("ascii"),
        base64.urlsafe_b64encode(secret.encode()).decode("ascii"),
    }
    coded |= {form.rstrip("=") for form in coded if len(form.rstrip("=")) >= 8}
    forms = {secret, *coded}
    for form in list(forms):
        forms |= {quote(form, safe=""), quote_plus(form), json.dumps(form)[1:-1]}
        forms.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return {form for form in forms if form}


class Masker:
    """Replaces every known secret, in every derived form, by `***`."""

    def __init__(self, secrets: Iterable[str | None] = (), *, process: bool = True) -> None:
        self._forms: list[str] = []
        self._process = process
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask this value too (a token obtained at run time, say)."""
        if not secret:
            return
        self._add_forms(derived_forms(secret))
        if self._process:
            register(secret)

    def add_login(self, login: str | None, secret: str | None) -> None:
        """Mask the base64 of `login:secret`, the value of an HTTP Basic header."""
        if secret:
            self.add(f"{login or ''}:{secret}")

    def _add_forms(self, forms: set[str]) -> None:
        self._forms = sorted(set(self._forms) | forms, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """The text with every secret masked."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def quote(self, body: bytes, limit: int = QUOTED_CHARS) -> str:
        """At most `limit` characters of a body, masked before it is cut (so no secret is
        cut in two and half shown)."""
        longest = len(self._forms[0]) if self._forms else 0
        text = body[: 4 * (limit + longest)].decode("utf-8", "replace")[: limit + longest]
        masked = self.mask(text)
        return masked if len(masked) <= limit else masked[: limit - 1] + "…"

    def __repr__(self) -> str:
        return f"Masker({len(self._forms)} forms)"


_PROCESS = Masker(process=False)


MIN_REGISTERED = 5
"""Shorter secrets are not masked process-wide (Airflow's `min_length_masked_secret` too):
masking a two-letter password everywhere would garble every log line and reject reason."""


def register(secret: str) -> None:
    """Mask `secret` (and its forms) in this process's logs, rejects, and Airflow's logs."""
    if len(secret) < MIN_REGISTERED:
        return
    _PROCESS._add_forms(derived_forms(secret))
    if "airflow.sdk.execution_time.task_runner" in sys.modules:
        from airflow.sdk.log import mask_secret

        with suppress(Exception):  # outside a task's supervisor there is nothing to tell
            for form in derived_forms(secret):
                mask_secret(form)


def mask(text: str) -> str:
    """`text` with every secret registered in this process masked."""
    return _PROCESS.mask(text)


class MaskingFilter(logging.Filter):
    """Masks a record's message (arguments merged in) and its exception text."""

    def __init__(self, masker: Masker | None = None) -> None:
        super().__init__()
        self._masker = masker or _PROCESS

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; masks it in place."""
        record.msg, record.args = self._masker.mask(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self._masker.mask(
                logging.Formatter().formatException(record.exc_info)
            )
        return True


@contextmanager
def masked_logs(masker: Masker) -> Iterator[None]:
    """Mask secrets in what the HTTP libraries log while the block runs."""
    log_filter = MaskingFilter(masker)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)
