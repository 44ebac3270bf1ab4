"""The `dagsmith` command line: `app`, every command registered, and `main`, the console
script. A module per command group holds its commands (`pipelines`, `authoring`,
`monitoring`; `common` what they share); heavy modules are imported inside commands, so
`dagsmith --help` stays fast."""

from __future__ import annotations

from agent.cli.common import app

# Importing a group registers its commands on `app`, in this order: `dagsmith --help`'s.
# isort: off
from agent.cli import pipelines  # noqa: F401
from agent.cli import authoring  # noqa: F401
from agent.cli import monitoring  # noqa: F401
# isort: on


def main() -> None:
    """Console-script entry point."""
    app()
