"""The exception hierarchy: one root, a few families, and two retry markers.

`TransientError` means "try again later" (Airflow retries the task); `TerminalError`
means retrying cannot help (bad spec, bad data, missing connection). Every message
says what failed, where, and what to do; none ever carries a secret.
"""

from __future__ import annotations


class DagsmithError(Exception):
    """Root of every error dagsmith raises on purpose.

    Args:
        message: What failed and where.
        hint: What the user can do about it, if anything useful can be said.
        code: The database's own error code (SQLSTATE or error number) behind it, if any.
    """

    def __init__(
        self, message: str, *, hint: str | None = None, code: str | int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class TransientError(DagsmithError):
    """A failure that may pass on its own: a retry is worth it."""


class TerminalError(DagsmithError):
    """A failure that a retry cannot fix."""


class SpecError(TerminalError):
    """The pipeline spec is invalid (a bad file, field or value)."""


class ConnectionNotFound(TerminalError):
    """A spec names a connection id that is not configured."""


class SourceError(TerminalError):
    """A source cannot be read: missing file, malformed content, unknown format."""


class SourceUnavailable(TransientError):
    """A source is temporarily unreachable (network, server busy)."""


class TransformError(TerminalError):
    """A transform rule cannot be applied (unknown column, failing user function)."""


class RejectLimitExceeded(TerminalError):
    """More rows were rejected than the stream's `max_rejects` allows."""


class LoadError(TerminalError):
    """The target refused the load: schema mismatch, constraint, permissions."""


class TargetUnavailable(TransientError):
    """The target database is temporarily unreachable."""
