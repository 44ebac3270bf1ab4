"""typer's shell-completion support, imported only when a shell asks for completions.

`typer.main` imports `typer.completion` (and with it shellingham and every shell's script)
at import time, for the `--install-completion` option this app turns off
(`add_completion=False`). `defer()` puts a stand-in under that name before typer is
imported; the first use of any of its names imports the real module, which then answers:
`_DAGSMITH_COMPLETE=bash_source dagsmith` completes as before.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

NAME = "typer.completion"


class _StandIn(ModuleType):
    """`typer.completion` until one of its names is looked up."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):  # the import system's questions (`__path__`...): a module
            raise AttributeError(attr)
        return getattr(_real(), attr)


def _real() -> ModuleType:
    if isinstance(sys.modules.get(NAME), _StandIn):
        del sys.modules[NAME]
    return importlib.import_module(NAME)


def _get_completion_inspect_parameters() -> Any:
    # typer.main imports this name at import time; it is called only with add_completion.
    return _real().get_completion_inspect_parameters()


def defer() -> None:
    """Put the stand-in in place, unless typer is imported already."""
    if "typer" in sys.modules:
        return
    stand_in = _StandIn(NAME)
    stand_in.get_completion_inspect_parameters = _get_completion_inspect_parameters  # type: ignore[attr-defined]
    sys.modules[NAME] = stand_in
