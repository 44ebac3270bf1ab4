"""The exception hierarchy: one root, a few families, and two retry markers.

`TransientError` means "try again later" (Airflow retries the task); `TerminalError`
means retrying cannot help (bad spec, bad data, missing connection). Among terminal
errors, `BadInput` marks what the user must change (a spec, an argument, a setting, a
connection to set): the CLI exits 2 on it, 1 on any other failure. Every message says
what failed, where, and what to do; none ever carries a secret.
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


class BadInput(TerminalError):
    """Input the user must change before anything can run: a spec, an argument, a setting."""


class SpecError(BadInput):
    """The pipeline spec is invalid (a bad file, field or value)."""


class ConnectionNotFound(BadInput):
    """A spec names a connection id that is not configured."""


class SourceError(TerminalError):
    """A source cannot be read: missing file, malformed content, unknown format."""


class SourceRefused(SourceError, BadInput):
    """A source the spec or command names is refused before it is read: a local path outside
    every allowed folder, a URL off its connection's host."""


class SourceUnavailable(TransientError):
    """A source is temporarily unreachable (network, server busy)."""


class TransformError(TerminalError):
    """A transform rule cannot be applied (unknown column, failing user function)."""


class KeyNotConfigured(TransformError, BadInput):
    """A hash key the spec's `protect` needs is not set (or too short): a setting to make."""


class RejectLimitExceeded(TerminalError):
    """More rows were rejected than the stream's `max_rejects` allows."""


class LoadError(TerminalError):
    """The target refused the load: schema mismatch, constraint, permissions."""


class TargetUnavailable(TransientError):
    """The target database is temporarily unreachable."""
