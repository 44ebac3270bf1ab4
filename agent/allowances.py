"""Folders outside a project that its saved specs read, kept in the project's file.

A spec reads local files only inside its project, its own folder, or a folder the user
allowed (`connectors.sources.files`). A folder allowed for one command (`--allow-path`)
that a spec written by `build`, `chat` or `init` reads is added to `allow_paths` in the
project's `dagsmith.toml` (or `[tool.dagsmith]` of its `pyproject.toml` when that is where
the project keeps its settings), relative to the project: the spec then runs as written,
from any folder and as a DAG, and the allowance shows in review like any other change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import tomlkit

from connectors.environments import project_settings
from connectors.project_file import PROJECT_FILE, PYPROJECT
from connectors.sources.files import kept_folders
from connectors.spec import Pipeline
from connectors.spec.sources import FileSource

_GLOB = ("*", "?", "[")


def needed(spec: Pipeline, spec_path: Path, project_dir: Path) -> list[str]:
    """The folders, as `allow_paths` entries, that the spec's local files lie in and that
    neither the project nor its file allows yet."""
    kept = kept_folders(project_dir, spec_path.parent)
    entries: list[str] = []
    for named in _outside(spec, spec_path, kept):
        # As named, not resolved: a link the user allowed keeps pointing where it points.
        relative = os.path.relpath(os.path.abspath(named), os.path.abspath(project_dir))
        entry = Path(relative).as_posix()
        entries += [entry] if entry not in entries else []
    return entries


def relies_on(spec: Pipeline, spec_path: Path, project_dir: Path) -> bool:
    """Whether the spec reads a local file outside its project and its own folder: one that
    only an allowance lets it read."""
    return any(_outside(spec, spec_path, [project_dir, spec_path.parent]))


def _outside(spec: Pipeline, spec_path: Path, folders: list[Path]) -> Iterator[Path]:
    """The folder, as named, of each local file source the spec reads outside `folders`."""
    real = [Path(os.path.realpath(f)) for f in folders]
    for stream in spec.streams:
        source = stream.source
        if isinstance(source, FileSource) and "://" not in source.path:
            named = _folder_of(spec_path.parent / source.path)
            if not any(Path(os.path.realpath(named)).is_relative_to(f) for f in real):
                yield named


def settings_file(project_dir: Path) -> Path:
    """Where the project keeps its settings: `dagsmith.toml`, unless only pyproject.toml's
    `[tool.dagsmith]` holds them."""
    _, origin = project_settings(project_dir)
    if origin == PYPROJECT:
        return project_dir / PYPROJECT
    return project_dir / PROJECT_FILE


def keep(spec: Pipeline, spec_path: Path, project_dir: Path) -> list[Path]:
    """Add the folders `needed` names to the project's file; the file, if it changed.

    Raises:
        SpecError: The project file is not valid TOML, or not valid once changed.
    """
    entries = needed(spec, spec_path, project_dir)
    if not entries:
        return []
    path = settings_file(project_dir)
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else None
    document = document if document is not None else tomlkit.document()
    table = document["tool"]["dagsmith"] if path.name == PYPROJECT else document
    listed = table.setdefault("allow_paths", tomlkit.array())
    listed.extend(e for e in entries if e not in listed)
    scratch = path.with_name(f".{path.name}.dagsmith-tmp")
    scratch.write_text(tomlkit.dumps(document), encoding="utf-8")
    os.replace(scratch, path)
    project_settings(project_dir)  # a file that no longer reads is an error now, not at run time
    return [path]


def _folder_of(path: Path) -> Path:
    """A file's folder; for a glob pattern, the folder above its first wildcard."""
    parts = path.parts
    first = next((i for i, part in enumerate(parts) if any(c in part for c in _GLOB)), None)
    return Path(*parts[:first]).parent if first is not None else path.parent
