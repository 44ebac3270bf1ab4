"""Shared plumbing of the file readers: find the files, open them, decompress them.

A spec `path` is a local path (relative to the spec's folder) or any fsspec URL
(s3://, memory://, file://...). Glob patterns expand to every match, in name order.

A local file is read only when its real path (symlinks followed) lies inside an allowed
folder: the project folder (the one holding `.env` and `.dagsmith/`: the working folder
of a command, `DAGSMITH_PROJECT_DIR` or the DAG folder's parent in Airflow), the spec's
own folder, or a folder the user allowed: for one command (`dagsmith --allow-path DIR`,
or `DAGSMITH_ALLOW_PATHS`, folders separated by the OS path separator), or for every
command and DAG of a project (`allow_paths` in its `dagsmith.toml`: the project of the
working folder, and the project the spec belongs to). Anything else is refused before it
is opened, so no content of it reaches a message or a model.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import lzma
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import fsspec
import pyarrow as pa
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from connectors.environments import allowed_paths
from connectors.errors import SourceError, SourceRefused
from connectors.project_file import PROJECT_FILE, project_of
from connectors.runtime import ReadContext, log

_SUFFIXES = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".bz2": "bz2",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".xz": "xz",
}
_CHUNK = 1 << 20
ALLOW_PATHS_ENV = "DAGSMITH_ALLOW_PATHS"


@dataclass(frozen=True)
class Location:
    """One file to read: its filesystem and its path on that filesystem."""

    fs: fsspec.AbstractFileSystem
    path: str
    shown: str
    """The path as the user should see it in a message."""


def expand(path: str, ctx: ReadContext) -> list[Location]:
    """Resolve a spec path to the files it names, in name order.

    Raises:
        SourceError: the file does not exist, or a glob matches nothing.
        SourceRefused: a local file lies outside every allowed folder.
    """
    url = path if "://" in path else str(ctx.base_dir / path)
    fs, fs_path = url_to_fs(url, **ctx.storage_options)
    if any(char in path for char in "*?["):
        matches = sorted(fs.glob(fs_path))
        for match in matches:
            # Name the match too: the pattern alone does not say which file lies outside.
            _check_contained(fs, match, f"{os.path.normpath(match)!r} (matched by {path!r})", ctx)
        if not matches:
            raise SourceError(
                f"no file matches {path!r} (looked for {url})",
                hint="check the pattern and the folder; relative paths start at the spec's folder",
            )
        remote = "://" in path
        return [Location(fs, m, fs.unstrip_protocol(m) if remote else m) for m in matches]
    _check_contained(fs, fs_path, repr(path), ctx)
    # Not `isfile`: a named pipe (`mkfifo`, a process substitution) is a source too.
    if not fs.exists(fs_path) or fs.isdir(fs_path):
        raise SourceError(
            f"source file not found: {url}",
            hint="check the path; relative paths start at the folder of the spec file",
        )
    return [Location(fs, fs_path, url)]


def allowed_folders(project_dir: Path, base_dir: Path) -> list[Path]:
    """The folders local sources may be read from, real paths (see the module's doc)."""
    chosen = os.environ.get(ALLOW_PATHS_ENV, "").split(os.pathsep)
    folders = [*kept_folders(project_dir, base_dir), *(Path(p) for p in chosen if p.strip())]
    return [Path(os.path.realpath(folder)) for folder in folders]


def kept_folders(project_dir: Path, base_dir: Path) -> list[Path]:
    """The folders allowed without a command's own allowance: the project, the spec's folder,
    and the `allow_paths` of the project files of both."""
    folders = [project_dir, base_dir]
    for project in dict.fromkeys((project_dir, project_of(base_dir))):
        folders += allowed_paths(project)
    return folders


def _check_contained(
    fs: fsspec.AbstractFileSystem, fs_path: str, named: str, ctx: ReadContext
) -> None:
    """Refuse a local path whose real location is outside every allowed folder; `named`
    says which path it is, for the message."""
    if not isinstance(fs, LocalFileSystem):
        return
    real = Path(os.path.realpath(fs_path))
    if any(real.is_relative_to(f) for f in allowed_folders(ctx.project_dir, ctx.base_dir)):
        return
    raise SourceRefused(
        f"source path {named} is outside the project folder {ctx.project_dir} and the "
        f"spec's folder {ctx.base_dir}: it is not read",
        hint=f"move it into the project, or allow its folder: dagsmith --allow-path DIR ... "
        f"(or {ALLOW_PATHS_ENV}), or for the whole project: allow_paths in {PROJECT_FILE}",
    )


QUOTED_CHARS = 120
"""The most characters of a reader's own message (which may quote the file) in an error."""


def bounded(message: object) -> str:
    """A reader's message cut to QUOTED_CHARS, for errors that must not dump a file."""
    text = str(message)
    return text if len(text) <= QUOTED_CHARS else text[: QUOTED_CHARS - 1] + "…"


def compression_of(location: Location, compression: str) -> str | None:
    """The codec in force: the spec's choice, or the one the file's suffix implies."""
    if compression == "none":
        return None
    if compression != "infer":
        return compression
    for suffix, codec in _SUFFIXES.items():
        if location.path.lower().endswith(suffix):
            return codec
    return None


@contextmanager
def open_binary(location: Location, compression: str) -> Iterator[IO[bytes]]:
    """Open a file for streaming reads, decompressing on the fly."""
    codec = compression_of(location, compression)
    with location.fs.open(location.path, "rb") as raw:
        if codec is None:
            yield raw
            return
        with _inflate(raw, codec) as inflated:
            yield inflated


def _inflate(raw: IO[bytes], codec: str) -> IO[bytes]:
    if codec == "gzip":
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw))
    if codec == "bz2":
        return cast("IO[bytes]", bz2.BZ2File(raw))
    if codec == "xz":
        return cast("IO[bytes]", lzma.LZMAFile(raw))
    # The standard library of Python 3.11 has no zstd; pyarrow's codec does it.
    native = pa.PythonFile(cast("io.IOBase", raw), mode="r")
    return cast("IO[bytes]", pa.CompressedInputStream(native, "zstd"))


@contextmanager
def open_seekable(location: Location, compression: str) -> Iterator[IO[bytes]]:
    """Open a file that needs random access (xlsx, parquet).

    A compressed file is first inflated into a temporary file on disk, so memory
    stays bounded while the reader seeks.
    """
    if compression_of(location, compression) is None:
        with location.fs.open(location.path, "rb") as handle:
            yield handle
        return
    with open_binary(location, compression) as stream, tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(stream, spool, _CHUNK)
        spool.seek(0)
        yield spool


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; a SourceError for an unknown encoding."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise SourceError(
            f"unknown encoding {encoding!r}",
            hint="use a Python codec name such as utf-8, cp1252, latin-1 or utf-16",
        ) from None


class Utf8Stream(io.RawIOBase):
    """A binary stream transcoded from any encoding to UTF-8, chunk by chunk.

    A UTF-8 or UTF-16 byte order mark is dropped, so readers see clean UTF-8.
    """

    def __init__(self, raw: IO[bytes], encoding: str, shown: str) -> None:
        super().__init__()
        codec = check_encoding(encoding)
        codec = "utf-8-sig" if codec == "utf-8" else codec
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        self._encoding = encoding
        self._shown = shown
        self._pending = b""
        self._offset = 0
        self._eof = False

    def readable(self) -> bool:
        """Always true: this is an input stream."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill `buffer` with the next UTF-8 bytes; 0 at the end of the stream."""
        while not self._pending and not self._eof:
            chunk = self._raw.read(_CHUNK)
            self._eof = not chunk
            self._pending = self._decode(chunk).encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _decode(self, chunk: bytes) -> str:
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{self._shown}: bytes at offset {self._offset + exc.start} are not valid "
                f"{self._encoding}",
                hint=encoding_hint(chunk if self._offset == 0 else b""),
            ) from exc
        self._offset += len(chunk)
        return text


_MARKS = {
    codecs.BOM_UTF32_LE: "utf-32",
    codecs.BOM_UTF32_BE: "utf-32",
    codecs.BOM_UTF16_LE: "utf-16",
    codecs.BOM_UTF16_BE: "utf-16",
}
"""Byte-order marks, longest first (UTF-32 LE's starts with UTF-16 LE's), and their codec."""


def encoding_hint(head: bytes) -> str:
    """What to set when a file does not decode: the codec its byte-order mark names (`head`:
    its first bytes, or b'' past them), else the usual suspects."""
    for mark, codec in _MARKS.items():
        if head.startswith(mark):
            return f"the file starts with a {codec.upper()} byte-order mark: `encoding: {codec}`"
    return "set the source's `encoding` to the file's real encoding (e.g. cp1252)"


def text_stream(raw: IO[bytes], encoding: str, shown: str) -> io.TextIOWrapper:
    """A text stream over `raw` that skips a byte order mark and fails with the file name."""
    return io.TextIOWrapper(
        io.BufferedReader(Utf8Stream(raw, encoding, shown)), "utf-8", newline=""
    )


def empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    """A zero-row batch, so an empty source still tells its columns."""
    return pa.RecordBatch.from_pylist([], schema=schema)


def unique_names(names: list[str | None]) -> list[str]:
    """Column names made unique and non-empty, deterministically.

    An empty name becomes `column_<position>` (1-based); a repeated name gets `_2`,
    `_3`... in order of appearance.
    """
    seen: set[str] = set()
    result = []
    for position, name in enumerate(names, start=1):
        base = name if name and name.strip() else f"column_{position}"
        candidate, suffix = base, 2
        while candidate in seen:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(candidate)
        result.append(candidate)
    if result != names:
        log.warning("renamed empty or repeated column names %s to %s", names, result)
    return result
