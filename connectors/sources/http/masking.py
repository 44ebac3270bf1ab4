"""Keep secrets out of messages and logs, whatever form they take in a URL."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

MASK = "***"

# urllib3 logs every request line, query string included, at DEBUG.
_LOGGERS = ("urllib3.connectionpool",)


class Masker:
    """Replaces every known secret (raw or URL-encoded) by `***`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Mask this value too (a token obtained at run time, say)."""
        if not secret:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        self._forms = sorted(set(self._forms) | forms, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """The text with every secret masked."""
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def __repr__(self) -> str:
        return f"Masker({len(self._forms)} forms)"


class _MaskingFilter(logging.Filter):
    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self._masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        masked = self._masker.mask(record.getMessage())
        record.msg, record.args = masked, None
        return True


@contextmanager
def masked_logs(masker: Masker) -> Iterator[None]:
    """Mask secrets in what the HTTP libraries log while the block runs."""
    log_filter = _MaskingFilter(masker)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)
