"""`dagsmith init`: profile a source and write a pipeline spec that runs as written.

A bare URL as the source (a database URL, an http(s) URL) becomes a connection named after
the pipeline (`<name>_source`): the spec names that id, and the URL goes to the project's
`.env` (or, on request, is printed as the line to set), never into the spec.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent import allowances, env_file
from agent.orchestrator.profile_view import SAMPLE_ROWS
from connectors.connections import env_var, lookup
from connectors.errors import ConnectionNotFound, SpecError
from connectors.profiling import draft
from connectors.profiling.model import Profile
from connectors.profiling.resolve import Request, profile_request, url_connection
from connectors.spec.io import dump_spec
from connectors.spec.models import Pipeline
from connectors.spec.protect import action, hash_key


@dataclass(frozen=True)
class Written:
    """What `init` wrote: the spec, and the connection a bare URL became (if any)."""

    spec: Path
    connection: str | None = None
    saved: env_file.Saved | None = None
    export: str | None = None
    """The line to set the connection, when it was not saved (it holds the secret)."""
    protection: str = ""
    kept: list[Path] = field(default_factory=list)
    """The project file, when the spec's folder outside the project was added to it."""
    """What to know of the personal data the profile found (empty: none found)."""
    ambiguous: str = ""
    """The columns left as text because their values read two ways (empty: none)."""


def write_draft(
    request: Request,
    name: str,
    folder: Path,
    *,
    into: str | None = None,
    target: str | None = None,
    force: bool = False,
    save_env: bool = True,
    protect: bool = False,
    order: str | None = None,
) -> Written:
    """Profile a source and write `folder/NAME.yaml`, a pipeline that runs as written;
    `order` (`day_first`, `month_first`) reads dates whose day and month cannot be told apart.

    Raises:
        SpecError: The spec exists (without `force`), the name is not a pipeline name, or
            the connection a bare URL becomes is set elsewhere to another value.
    """
    project = Path.cwd()
    spec_path = folder / f"{name}.yaml"
    if spec_path.exists() and not force:
        raise SpecError(f"{spec_path} exists", hint="pass --force to overwrite it")
    request = replace(request, url_connection=f"{name}_source")
    bare = url_connection(request)
    if bare is not None:
        env_file.check_free(project, *bare, force=force)
    found = profile_request(
        request, project_dir=project, rows=SAMPLE_ROWS, full=False, with_quality=True
    )
    local = found.source.get("path")
    if isinstance(local, str) and "://" not in local:
        # Relative paths in a spec start at the spec's folder, wherever it is run from (a
        # folder outside the project too: the spec then runs on a checkout of both).
        found.source["path"] = Path(os.path.relpath(local, folder.resolve())).as_posix()
    pipeline = draft.pipeline(found, name, table=into, target=target, protect=protect, order=order)
    folder.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(dump_spec(pipeline), encoding="utf-8")
    said = _protection(pipeline, found, project)
    written = Written(
        spec_path,
        protection=said,
        ambiguous=draft.ambiguity_note(found, order).lstrip(". "),
        kept=allowances.keep(pipeline, spec_path, project),
    )
    if bare is None:
        return written
    if save_env:
        return replace(written, connection=bare[0], saved=env_file.save(project, *bare))
    return replace(written, connection=bare[0], export=env_file.export_line(*bare))


def _protection(pipeline: Pipeline, found: Profile, project: Path) -> str:
    """The personal data found: protected (and whether the hash key is set), or not."""
    flagged = [column.name for column in found.columns if column.pii]
    if not flagged:
        return ""
    protect = pipeline.streams[0].transform.protect
    if not protect:
        return (
            f"! likely personal data, not protected: {', '.join(flagged)} (the spec's "
            "description has the rules to add; --protect writes them)"
        )
    keys = sorted({key for rule in protect.values() if (key := hash_key(rule)) is not None})
    missing = [key for key in keys if not _configured(key, project)]
    said = "✓ personal data protected: " + ", ".join(f"{c} {action(r)}" for c, r in protect.items())
    if missing:
        said += (
            f"; hashing needs a secret key: set {env_var(missing[0])}="
            '\'{"conn_type": "generic", "password": "<16+ random characters>"}\' '
            "(docs/protect.md)"
        )
    return said


def _configured(conn_id: str, project: Path) -> bool:
    try:
        lookup(conn_id, project)
    except ConnectionNotFound:
        return False
    return True
