"""Stream the records of a JSON document without loading the document.

pyarrow only reads newline-delimited JSON, and no incremental JSON parser is a
dependency, so this walks the text itself: it steps through the keys of
`records_path` and then hands each array element to the standard library's C
decoder (`raw_decode`), holding one chunk of text plus the current record.
A sibling value skipped on the way to the records is decoded whole, then dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NoReturn, TextIO

from connectors.errors import SourceError

_CHUNK = 1 << 20
_MAX_RECORD = 256 << 20
_SPACE = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


class RecordScanner:
    """The elements of the array at a dotted path of a JSON document, one by one."""

    def __init__(self, text: TextIO, shown: str) -> None:
        self._text = text
        self._shown = shown
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._lines_before = 0
        self._column_base = 0

    def records(self, path: str | None) -> Iterator[tuple[Any, int]]:
        """Yield `(record, line)` for each element of the records array."""
        for key in path.split(".") if path else []:
            self._enter(key, path or "")
        self._expect("[", "an array of records (or set `records_path` to where it is)")
        while True:
            if self._peek() == "]":
                return
            line = self._location(self._pos)[0]
            yield self._value(), line
            following = self._peek()
            if following not in (",", "]"):
                self._fail("expected ',' or ']' after a record")
            if following == ",":
                self._pos += 1

    def _enter(self, key: str, path: str) -> None:
        self._expect("{", f"an object holding {key!r} (records_path {path!r})")
        while self._peek() != "}":
            name = self._value()
            self._expect(":", "':' after a key")
            if name == key:
                return
            self._value()
            if self._peek() == ",":
                self._pos += 1
            elif self._peek() != "}":
                self._fail("expected ',' or '}' in an object")
        self._fail(f"key {key!r} of records_path {path!r} not found in this object")

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if not self._truncated(exc) or not self._fill():
                    raise self._error(exc.msg, exc.pos) from exc
                continue
            # A number that ends the buffer may go on in the next chunk.
            if end < len(self._buf) or not self._fill():
                self._pos = end
                return value

    def _truncated(self, exc: json.JSONDecodeError) -> bool:
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(self._buf) - 16

    def _expect(self, char: str, what: str) -> None:
        if self._peek() != char:
            self._fail(f"expected {what}")
        self._pos += 1

    def _peek(self) -> str:
        """The next character that is not white space ('' at the end), kept unread."""
        while True:
            match = _SPACE.match(self._buf, self._pos)
            self._pos = match.end() if match else self._pos
            if self._pos < len(self._buf) or not self._fill():
                return self._buf[self._pos : self._pos + 1]

    def _fill(self) -> bool:
        """Read more text (at least as much as is held, so a long record costs O(n))."""
        if self._eof:
            return False
        chunk = self._text.read(max(_CHUNK, len(self._buf) - self._pos))
        if not chunk:
            self._eof = True
            return False
        self._drop_consumed()
        if len(self._buf) > _MAX_RECORD:
            self._fail(f"a record is larger than {_MAX_RECORD >> 20} MiB")
        self._buf += chunk
        return True

    def _drop_consumed(self) -> None:
        done = self._buf[: self._pos]
        newlines = done.count("\n")
        self._lines_before += newlines
        self._column_base = (
            len(done) - done.rfind("\n") - 1 if newlines else self._column_base + len(done)
        )
        self._buf, self._pos = self._buf[self._pos :], 0

    def _location(self, pos: int) -> tuple[int, int]:
        line = self._lines_before + self._buf.count("\n", 0, pos) + 1
        last = self._buf.rfind("\n", 0, pos)
        column = pos - last if last >= 0 else self._column_base + pos + 1
        return line, column

    def _error(self, message: str, pos: int) -> SourceError:
        line, column = self._location(pos)
        return SourceError(
            f"{self._shown}: invalid JSON at line {line}, column {column}: {message}",
            hint="fix the file there; for one record per line use kind 'jsonl'",
        )

    def _fail(self, message: str) -> NoReturn:
        raise self._error(message, self._pos)
