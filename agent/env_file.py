"""Connections saved in the project's `.env`: readable by its owner only, ignored by git.

`dagsmith init` on a bare URL (and `build` or `chat` on a database or http(s) URL in the
description) names the connection by id in the spec and keeps the URL,
credentials included, here, where `dagsmith run` looks after the environment
(`AIRFLOW_CONN_<ID>`, Airflow's own convention). The secret is never printed.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values, set_key

from agent.gitflow.git import GitError, ignored, toplevel
from connectors.connections import env_var
from connectors.errors import SpecError
from connectors.profiling.resolve import connection_value
from connectors.spec.models import Pipeline

PRIVATE = 0o600
_GIVEN: dict[str, tuple[str, str]] = {}
"""The bare URLs that a description gave for connections in this process, by id: each as
written and as the connection's value."""


@dataclass(frozen=True)
class Saved:
    """Where a connection went, and how git treats the file."""

    path: Path
    variable: str
    git: str
    """"added to .gitignore", "ignored by git", "not in a git repository", or "" (unchanged)."""


def export_line(conn_id: str, value: str) -> str:
    """The shell line that sets a connection (it holds the secret: print it only on request)."""
    return f"export {env_var(conn_id)}={shlex.quote(value)}"


def check_free(project_dir: Path, conn_id: str, value: str, *, force: bool) -> None:
    """Refuse to shadow a connection that is set to something else.

    Raises:
        SpecError: The environment, or `.env` without `force`, sets the id to another value.
    """
    variable = env_var(conn_id)
    current = os.environ.get(variable)
    if current is not None and current != value:
        raise SpecError(
            f"connection {conn_id!r} is already set in the environment ({variable}) to "
            "another value, which a run would use",
            hint=f"unset {variable}, or pass --connection {conn_id} to use it as it is",
        )
    dotenv = project_dir / ".env"
    saved = dotenv_values(dotenv).get(variable) if dotenv.is_file() else None
    if saved is not None and saved != value and not force:
        raise SpecError(
            f"{dotenv} already sets connection {conn_id!r} ({variable}) to another value",
            hint=f"pass --force to replace it, or --connection {conn_id} to use it as it is",
        )


def use_given(project_dir: Path, conn_id: str, url: str) -> None:
    """Set a connection that a description gave as a bare URL, for this process (the tools
    profile and check the source through it), and keep it for `save_given`.

    Raises:
        SpecError: The environment or `.env` sets the id to another value.
    """
    value = connection_value(url)
    if value is None:
        raise SpecError(f"{url}: not a database or http(s) URL")
    check_free(project_dir, conn_id, value, force=False)
    os.environ[env_var(conn_id)] = value
    _GIVEN[conn_id] = url, value


def given_ids() -> list[str]:
    """The ids of the connections that descriptions gave as bare URLs in this process."""
    return list(_GIVEN)


def given(conn_id: str) -> str | None:
    """The bare URL (as written) that a description gave for this connection id, if one did."""
    return _GIVEN[conn_id][0] if conn_id in _GIVEN else None


def save_given(project_dir: Path, pipeline: Pipeline) -> list[tuple[str, Saved]]:
    """Save to `.env` the connections of the pipeline's sources that a description gave as
    bare URLs; each id with where it went."""
    ids = dict.fromkeys(getattr(stream.source, "connection", "") for stream in pipeline.streams)
    return [(c, save(project_dir, c, _GIVEN[c][1])) for c in ids if c in _GIVEN]


def save(project_dir: Path, conn_id: str, value: str) -> Saved:
    """Write `AIRFLOW_CONN_<ID>` to `project_dir/.env` (mode 0600) and keep it out of git."""
    path = project_dir / ".env"
    variable = env_var(conn_id)
    path.touch(mode=PRIVATE, exist_ok=True)
    path.chmod(PRIVATE)  # an existing .env may have been readable by others
    set_key(path, variable, value, quote_mode="always")
    return Saved(path, variable, _keep_out_of_git(project_dir, path))


def _keep_out_of_git(project_dir: Path, path: Path) -> str:
    try:
        repo = toplevel(project_dir)
    except GitError:
        return "not in a git repository"
    relative = path.resolve().relative_to(repo.resolve()).as_posix()
    if ignored(repo, [relative]):
        return "ignored by git"
    gitignore = project_dir / ".gitignore"
    text = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    separator = "" if not text or text.endswith("\n") else "\n"
    gitignore.write_text(f"{text}{separator}/.env\n", encoding="utf-8")
    return "added to .gitignore"
