"""Render a pipeline spec into an Airflow DAG file, safely and reproducibly.

Templates run in Jinja's sandbox with `StrictUndefined` and no autoescaping. Every value
reaches the output through the `literal` filter (a Python literal via `repr`/JSON) or the
`ident` filter (a validated Python identifier); `finalize` refuses any other output, so a
template cannot print a raw value by mistake. Each output is then parsed and checked
against an allow-list of imports and calls (`agent.dags.checks.check_source`).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import keyword
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from agent.dags.checks import check_source, expected_tasks
from connectors.errors import SpecError
from connectors.spec import Pipeline, load_spec, spec_hash
from connectors.spec.access import access_control
from connectors.spec.io import to_plain

DAG_TEMPLATE = "dag.py.j2"
_IDENT = re.compile(r"[a-z][a-z0-9_]{0,79}")


class RenderError(SpecError):
    """A spec could not be rendered into a DAG that passes the checks."""


class Code(str):
    """Text that may go into generated code: made only by the `literal` and `ident` filters."""

    __slots__ = ()


def literal(value: Any) -> Code:
    """A Python literal for a string, number, bool, None, or a list/dict of them."""
    return Code(_literal(value))


def _literal(value: Any) -> str:
    if value is None or isinstance(value, bool | int | str):
        return repr(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise RenderError(f"cannot render {type(value).__name__} as a literal")


def literal_block(text: str) -> Code:
    """A long string as a parenthesised run of one literal per line, for review in a diff."""
    if not isinstance(text, str):
        raise RenderError("literal_block takes text")
    lines = text.splitlines(keepends=True)
    if len(lines) <= 1:
        return literal(text)
    body = "".join(f"    {line!r}\n" for line in lines)
    return Code(f"(\n{body})")


def ident(value: Any) -> Code:
    """A name that becomes a Python identifier: lower-case, not a keyword, validated."""
    if not isinstance(value, str) or not _IDENT.fullmatch(value) or keyword.iskeyword(value):
        raise RenderError(f"{str(value)[:80]!r} cannot be a Python name in a DAG")
    return Code(value)


def _finalize(value: Any) -> Any:
    if not isinstance(value, Code):
        raise RenderError(f"a template printed a value without | literal: {str(value)[:80]!r}")
    return value


def _templates() -> PackageLoader:
    """The DAG templates, package data: `agent/templates` in an installed wheel (pyproject's
    force-include), the top-level `templates/` package of a source tree or editable install."""
    if importlib.util.find_spec("agent.templates") is not None:
        return PackageLoader("agent.templates", ".")
    return PackageLoader("templates", ".")


@functools.cache
def environment() -> SandboxedEnvironment:
    """The sandboxed Jinja environment the DAG templates render in."""
    env = SandboxedEnvironment(
        loader=_templates(),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(literal=literal, literal_block=literal_block, ident=ident)
    return env


@dataclass(frozen=True)
class RenderedDag:
    """One generated DAG file: where it goes, its text, and the tasks it must hold."""

    spec: Pipeline
    path: Path
    text: str
    tasks: dict[str, set[str]]


def render(spec: Pipeline, spec_path: Path, out_dir: Path) -> RenderedDag:
    """Render `spec` (read from `spec_path`) into `<out_dir>/<pipeline>.py`.

    Paths in the output are relative (to the project folder, the parent of `out_dir`, and
    to the DAG's folder), so the same spec renders the same bytes on any machine.
    """
    text = environment().get_template(DAG_TEMPLATE).render(_context(spec, spec_path, out_dir))
    problems = check_source(text)
    if problems:
        raise RenderError(f"the DAG rendered for {spec.pipeline!r} failed its checks: {problems}")
    return RenderedDag(spec, out_dir / f"{spec.pipeline}.py", text, expected_tasks(spec))


def _context(spec: Pipeline, spec_path: Path, out_dir: Path) -> dict[str, Any]:
    """The template's values, all plain data: the template turns each into a literal."""
    folder = Path(os.path.abspath(out_dir))
    spec_file = Path(os.path.abspath(spec_path))
    return {
        "spec_file": _relative(spec_file, folder.parent),
        "out_dir": _relative(folder, folder.parent),
        "spec_dir": _relative(spec_file.parent, folder),
        "spec_hash": spec_hash(spec),
        "spec_json": json.dumps(to_plain(spec), indent=2, ensure_ascii=False) + "\n",
        "doc_md": doc_md(spec),
        "dag_id": spec.pipeline,
        "function": f"{spec.pipeline}_dag",
        "description": spec.description.splitlines()[0][:200] if spec.description else None,
        "schedule": spec.schedule if isinstance(spec.schedule, str) else None,
        "upstream": upstream(spec, spec_file.parent),
        "tags": ["dagsmith", *spec.tags],
        "owner": spec.owner,
        "access_control": access_control(spec.access),
        "retries": _retries(spec),
        "streams": [stream.name for stream in spec.streams],
        "health_task": spec.monitor.task,
    }


def upstream(spec: Pipeline, folder: Path) -> list[dict[str, Any]]:
    """What `schedule.after` names, resolved: an Asset URI as written, a `pipeline.stream` as
    that stream's target connection and table (a bare `pipeline`: each of its streams'), read
    from the spec of that pipeline in the spec's folder."""
    found: list[dict[str, Any]] = []
    specs: dict[str, Pipeline] | None = None
    for item in spec.upstream:
        if "://" in item:
            found.append({"uri": item})
            continue
        specs = specs if specs is not None else _pipelines(folder, spec.pipeline)
        name, _, stream = item.partition(".")
        if name not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise RenderError(
                f"schedule.after: no spec in {folder} defines pipeline {name!r} "
                f"(pipelines there: {known})",
                hint=_did_you_mean(name, specs)
                + "name a pipeline whose spec is in that folder, or write the Asset URI of "
                "the table it should run after",
            )
        other = specs[name]
        try:
            streams = [other.stream(stream)] if stream else other.streams
        except KeyError as exc:
            raise RenderError(
                f"schedule.after: {item!r}: {exc.args[0]}",
                hint=_did_you_mean(stream, [s.name for s in other.streams])
                + f"name one of {name}'s streams, or {name!r} alone for all of them",
            ) from None
        found += [
            {"pipeline": name, "stream": s.name, "target": other.target, "table": s.load.table}
            for s in streams
        ]
    return [entry for i, entry in enumerate(found) if entry not in found[:i]]


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _pipelines(folder: Path, own: str) -> dict[str, Pipeline]:
    """The other specs in a folder by pipeline name; one that does not load is not a match."""
    specs: dict[str, Pipeline] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            other = load_spec(path)
        except SpecError:
            continue
        if other.pipeline != own:
            specs.setdefault(other.pipeline, other)
    return specs


def _retries(spec: Pipeline) -> dict[str, Any]:
    retries = spec.retries
    return {
        "count": retries.count,
        "delay": int(retries.delay.total_seconds()),
        "backoff": 2.0 if retries.exponential else 0.0,
        "max_delay": int(retries.max_delay.total_seconds()),
    }


def _schedule_md(spec: Pipeline) -> str:
    if spec.upstream:
        return "after " + ", ".join(f"`{item}`" for item in spec.upstream)
    return f"`{spec.schedule or 'manual'}`"


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def doc_md(spec: Pipeline) -> str:
    """A Markdown summary of the spec for Airflow's UI.

    It always ends with a fixed line: Airflow reads `doc_md` ending in `.md` as a file path.
    """
    lines = [f"### {spec.pipeline}", ""]
    if spec.description:
        lines += [spec.description, ""]
    lines += [
        f"- schedule: {_schedule_md(spec)}",
        f"- target: `{spec.target or 'embedded DuckDB'}`",
        f"- retries: {spec.retries.count}",
        "",
        "| stream | source | table | mode |",
        "|---|---|---|---|",
    ]
    for stream in spec.streams:
        source = getattr(stream.source, "path", None) or stream.source.kind
        lines.append(
            f"| {stream.name} | {stream.source.kind}: `{source}` | "
            f"`{stream.load.table}` | {stream.load.mode} |"
        )
    lines += ["", "Generated by dagsmith from the pipeline spec; edit the spec, not this DAG."]
    return "\n".join(lines) + "\n"
