"""Environments: the same specs and DAG files in development, staging and production.

A project declares them in `dagsmith.toml` (or under `[tool.dagsmith]` in `pyproject.toml`):

    default = "dev"

    [environments.prod]
    target = "warehouse"                  # the target of a spec that names none
    staging_url = "s3://etl/staging"      # default of DAGSMITH_STAGING_URL
    lineage_namespace = "prod"            # default of OPENLINEAGE_NAMESPACE
    alerts = {on_failure = [{webhook_env = "PAGER_URL"}]}   # added to every spec's

    [environments.prod.connections]       # a spec's connection id -> the deployment's
    warehouse = "warehouse_prod"
    orders_api = "orders_api"

Which one is active: `--env NAME` (which sets `DAGSMITH_ENV`), `DAGSMITH_ENV`, inside
Airflow the Variable `dagsmith_env`, then the file's `default`; none when the project
declares no environments. A DAG file never names one: the deployment does. An environment
with a `connections` table defines exactly those ids: a spec naming another one fails.
Secrets stay in the connections themselves (Airflow's store and secrets backends, then
`AIRFLOW_CONN_<ID>`, then `.env`).
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from connectors.airflow_context import in_airflow
from connectors.errors import ConnectionNotFound, SpecError
from connectors.project_file import ENV_VAR, PROJECT_FILE, PYPROJECT, PYPROJECT_SECTION
from connectors.spec.base import ConnectionId, SpecModel
from connectors.spec.models import Alerts, Pipeline
from connectors.spec.uses import connections

log = logging.getLogger("dagsmith")

AIRFLOW_VARIABLE = "dagsmith_env"


class Environment(SpecModel):
    """One environment's connections and defaults."""

    connections: dict[ConnectionId, ConnectionId] | None = Field(
        default=None,
        description="A spec's connection id -> the id this environment uses for it; when "
        "given, the only ids a spec may name here.",
    )
    target: ConnectionId | None = Field(
        default=None, description="The target of a spec that names none (else embedded DuckDB)."
    )
    staging_url: str | None = Field(default=None, min_length=1)
    lineage_namespace: str | None = Field(default=None, min_length=1, max_length=200)
    alerts: Alerts = Field(default_factory=Alerts, description="Added to every spec's alerts.")


class ProjectSettings(SpecModel):
    """The project file's settings: its environments, and the folders outside the project
    its specs may read local files from."""

    default: str | None = None
    environments: dict[ConnectionId, Environment] = Field(default_factory=dict)
    allow_paths: list[str] = Field(
        default_factory=list,
        description="Folders local sources may also be read from: relative to the project "
        "folder, or absolute (as `--allow-path`, for every command and DAG of the project).",
    )


@dataclass(frozen=True)
class Active:
    """The environment in effect for a project (`name` None: no environment)."""

    name: str | None
    settings: Environment
    section: str
    """Its table, for messages: `environments.prod` (`tool.dagsmith.environments.prod`)."""
    file: str

    def connection(self, conn_id: str) -> str:
        """The deployment's id for a spec's connection id.

        Raises:
            ConnectionNotFound: The environment lists its connections and not this one.
        """
        mapped = self.settings.connections
        if mapped is None:
            return conn_id
        if conn_id not in mapped:
            raise ConnectionNotFound(
                f"environment {self.name!r} does not define connection {conn_id!r}",
                hint=f'add `{conn_id} = "<its id in {self.name}>"` under '
                f"[{self.section}.connections] in {self.file} "
                f"(defined: {', '.join(sorted(mapped)) or 'none'})",
            )
        return mapped[conn_id]

    def naming(self, conn_id: str | None) -> str:
        """How a message names what the spec calls a connection, in this environment
        ('' without one): ` (the spec's 'warehouse' in environment 'prod')`."""
        if self.name is None:
            return ""
        what = f"the spec's {conn_id!r}" if conn_id else "the default target"
        return f" ({what} in environment {self.name!r})"


NO_ENVIRONMENT = Active(None, Environment(), "", "")
_CACHE: dict[Path, tuple[tuple[float, ...], ProjectSettings | None, str]] = {}


def active(project_dir: Path) -> Active:
    """The environment selected for the project (`NO_ENVIRONMENT` when none is).

    Raises:
        SpecError: The project file is invalid, or names no environment of the selected name.
    """
    settings, origin = project_settings(project_dir)
    name = selected(settings)
    if name is None:
        return NO_ENVIRONMENT
    if settings is None or name not in settings.environments:
        known = ", ".join(sorted(settings.environments)) if settings else ""
        raise SpecError(
            f"environment {name!r} is not declared in {origin or project_dir / PROJECT_FILE}",
            hint=f"declared: {known}" if known else f"declare it as [environments.{name}]",
        )
    section = f"{'tool.dagsmith.' if origin == PYPROJECT else ''}environments.{name}"
    return Active(name, settings.environments[name], section, origin)


def selected(settings: ProjectSettings | None) -> str | None:
    """The selected environment's name: DAGSMITH_ENV, else (for a project that declares
    environments: a parse of every DAG file asks) Airflow's Variable, else the default."""
    if chosen := os.environ.get(ENV_VAR):
        return chosen
    if settings is None:
        return None
    return _airflow_variable() or settings.default


def apply_defaults(project_dir: Path) -> Active:
    """Make the active environment's staging URL and lineage namespace the process's
    defaults (an explicit environment variable wins), and return the environment."""
    env = active(project_dir)
    if env.settings.staging_url:
        from connectors.staging import STAGING_ENV

        _default(STAGING_ENV, env.settings.staging_url)
    if env.settings.lineage_namespace:
        # Only then: the module that reads it imports the OpenLineage client.
        from connectors.lineage.events import NAMESPACE_ENV

        _default(NAMESPACE_ENV, env.settings.lineage_namespace)
    return env


def _default(variable: str, value: str) -> None:
    """Set the variable unless it is set (an empty one counts as unset, as its readers do)."""
    if not os.environ.get(variable):
        os.environ[variable] = value


def project_settings(project_dir: Path) -> tuple[ProjectSettings | None, str]:
    """The project's environments and the file they come from (None, '' when it has none)."""
    # One entry per folder however it is named (`.` or its path): its warnings come once.
    project_dir = Path(os.path.abspath(project_dir))
    files = (project_dir / PROJECT_FILE, project_dir / PYPROJECT)
    stamp = tuple(path.stat().st_mtime if path.is_file() else -1.0 for path in files)
    cached = _CACHE.get(project_dir)
    if cached is None or cached[0] != stamp:
        cached = (stamp, *_read(*files))
        _CACHE[project_dir] = cached
    return cached[1], cached[2]


def _read(own: Path, pyproject: Path) -> tuple[ProjectSettings | None, str]:
    """The settings and their file's name. Its warnings are given once per change of the
    files: the cache keeps what was read."""
    if own.is_file():
        _warn_hidden(own, pyproject)
        settings = _validated(_toml(own), str(own))
        _warn_broad(settings, own.parent, str(own))
        return settings, own.name
    if pyproject.is_file():
        section = _toml(pyproject).get("tool", {}).get("dagsmith")
        if section is not None:
            where = f"{pyproject} [tool.dagsmith]"
            settings = _validated(section, where)
            _warn_broad(settings, own.parent, where)
            return settings, pyproject.name
    return None, ""


def _warn_hidden(own: Path, pyproject: Path) -> None:
    """Warn when pyproject.toml's `[tool.dagsmith]` holds settings that `own` beside it
    hides: a reader of either file alone would be misled."""
    if not pyproject.is_file() or PYPROJECT_SECTION not in pyproject.read_text(encoding="utf-8"):
        return
    try:
        section = _toml(pyproject).get("tool", {}).get("dagsmith")
    except SpecError:
        return  # a pyproject.toml that is not read is not ours to judge
    if section:
        log.warning(
            "%s and [tool.dagsmith] of %s both hold dagsmith settings: only %s is read; "
            "keep them in one of the two",
            own,
            pyproject,
            own.name,
        )


def _warn_broad(settings: ProjectSettings, project_dir: Path, where: str) -> None:
    """Warn of an `allow_paths` folder that holds the home folder (`/`, `/home`, the home
    folder itself): every spec and DAG of the project may then read its keys and
    credentials."""
    home = Path(os.path.realpath(Path.home()))
    for entry in settings.allow_paths:
        folder = Path(os.path.realpath(project_dir / entry))
        if not home.is_relative_to(folder):
            continue
        if folder == Path(folder.anchor):
            reach = "any file on the machine"
        elif folder == home:
            reach = f"any file of the home folder {home}"
        else:
            reach = f"any file under {folder}, the home folder {home} included"
        log.warning(
            "%s: allow_paths %r lets the project's specs read %s: allow only the folders "
            "their sources are in",
            where,
            entry,
            reach,
        )


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None


def _validated(data: Any, where: str) -> ProjectSettings:
    try:
        settings = ProjectSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise SpecError(
            f"{where}: {field}: {first['msg']}",
            hint="see docs/environments.md for the file's fields",
        ) from None
    if settings.default is not None and settings.default not in settings.environments:
        raise SpecError(f"{where}: default: no environment named {settings.default!r}")
    return settings


def _airflow_variable() -> str | None:
    """The deployment's `dagsmith_env` Variable, inside an Airflow task or DAG parse only."""
    if not in_airflow():
        return None
    try:
        from airflow.sdk import Variable
    except ImportError:
        return None
    try:
        value = Variable.get(AIRFLOW_VARIABLE, default=None)
    except Exception:
        return None
    return str(value) if value else None


def allowed_paths(project_dir: Path) -> list[Path]:
    """The project file's `allow_paths`, relative ones resolved from the project folder.

    Raises:
        SpecError: The project file is invalid.
    """
    settings, _ = project_settings(project_dir)
    return [project_dir / folder for folder in settings.allow_paths] if settings else []


def undefined_connections(spec: Pipeline, project_dir: Path) -> list[str]:
    """Each connection id the spec names that the active environment does not define, with
    what uses it ([] with no environment, or one that maps no ids)."""
    env = active(project_dir)
    problems = []
    for conn_id, uses in connections(spec).items():
        try:
            env.connection(conn_id)
        except ConnectionNotFound as exc:
            problems.append(f"{exc.message}, used by {' and '.join(uses)} (hint: {exc.hint})")
    return problems
