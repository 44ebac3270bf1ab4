"""The CLI's consoles: rich on a terminal, plain text elsewhere, rich imported only when used.

rich costs a tenth of a second of every start-up. Piped into a file, a CI log or another
program, its output is the same text without colours, so `Output.print` writes marked-up
text itself when the stream is no terminal and hands everything else (tables, a terminal,
options it does not know) to a rich `Console` made on first need.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

# rich's own markup grammar (rich.markup): a tag is `[name]` or `[/]`, escaped by a backslash.
_TAG = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
_ESCAPABLE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_PLAIN_OPTIONS = frozenset({"highlight", "sep", "end"})


def escape(text: str) -> str:
    """Text that prints as itself through console markup (as `rich.markup.escape`)."""
    text = _ESCAPABLE.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    return text + "\\" if text.endswith("\\") and not text.endswith("\\\\") else text


def strip_markup(markup: str) -> str:
    """The text rich would print for `markup`, without its styles."""

    pieces, position = [], 0
    for match in _TAG.finditer(markup):
        whole, escapes = match.group(1), match.group(2)
        # rich reads a `\[` outside a tag as `[` too.
        pieces.append(markup[position : match.start()].replace("\\[", "["))
        backslashes, escaped = divmod(len(escapes), 2)
        pieces.append("\\" * backslashes + (whole[len(escapes) :] if escaped else ""))
        position = match.end()
    pieces.append(markup[position:].replace("\\[", "["))
    return "".join(pieces)


def is_terminal(stream: TextIO) -> bool:
    """Whether rich would treat the stream as a terminal (its TTY_COMPATIBLE and FORCE_COLOR)."""
    forced = os.environ.get("TTY_COMPATIBLE", "")
    if forced in {"0", "1"}:
        return forced == "1"
    if (force_color := os.environ.get("FORCE_COLOR")) is not None:
        return force_color != ""
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


class Output:
    """stdout or stderr, printed as a soft-wrapping rich `Console` would print it."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr
        self._console: Console | None = None

    @property
    def file(self) -> TextIO:
        """The stream now: looked up at each print, as a test runner swaps them."""
        return sys.stderr if self.stderr else sys.stdout

    @property
    def plain(self) -> bool:
        """Whether this prints plain text (no terminal), so rich need not be imported."""
        return self._console is None and not is_terminal(self.file)

    @property
    def rich(self) -> Console:
        """The rich console behind this one, made on first use."""
        if self._console is None:
            from rich.console import Console

            # Soft wrap: a message naming a long path must stay on one line for grep and CI.
            self._console = Console(stderr=self.stderr, soft_wrap=True)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        """Print markup text, or anything rich prints (tables...), like `Console.print`."""
        texts = all(isinstance(o, str) for o in objects)
        if texts and self.plain and options.keys() <= _PLAIN_OPTIONS:
            line = options.get("sep", " ").join(strip_markup(o) for o in objects)
            self.file.write(line + options.get("end", "\n"))
            self.file.flush()
            return
        self.rich.print(*objects, **options)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], right: int) -> None:
        """Columns of plain text, left-aligned but for those from index `right` on."""
        widths = [
            max(len(strip_markup(c)) for c in col) for col in zip(headers, *rows, strict=True)
        ]
        for row in (headers, *rows):
            cells = (
                strip_markup(cell).rjust(w) if i >= right else strip_markup(cell).ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            self.print(escape("  ".join(cells).rstrip()), highlight=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)
