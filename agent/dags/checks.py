"""Checks of generated DAG code: an `ast` allow-list, and an import by Airflow's DagBag.

The allow-list holds exactly what the templates emit: a few imports, calls to `dag`, `task`,
`datetime`, `timedelta`, the `connectors` entry points and the module's own functions,
literals, and nothing that reaches Python's internals (`__import__`, dunder attributes).
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import sys
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.spec import Pipeline

ALLOWED_IMPORTS = {
    "__future__": {"annotations"},
    "datetime": {"datetime", "timedelta", "timezone"},
    "airflow.sdk": {"dag", "task"},
    "connectors": {"airflow_tasks", "alerts", "health"},
    "connectors.lineage": {"assets"},
}
ALLOWED_CALLS = {
    "dag",
    "task",
    "datetime",
    "timedelta",
    "airflow_tasks.run",
    "alerts.notify",
    "health.check",
    "assets.inlets",
    "assets.outlets",
    "assets.after",
}
ALLOWED_ATTRIBUTES = {
    "utc", "run", "notify", "inlets", "outlets", "after", "check"
}  # fmt: skip
ALLOWED_BUILTINS = {"dict", "str", "object", "__file__"}
_NODES = (
    ast.Module, ast.ImportFrom, ast.alias, ast.Assign, ast.Name, ast.Load, ast.Store,
    ast.Constant, ast.FunctionDef, ast.arguments, ast.arg, ast.Expr, ast.Call, ast.keyword,
    ast.Attribute, ast.Return, ast.Dict, ast.List, ast.BinOp, ast.RShift, ast.Subscript,
    ast.Tuple,
)  # fmt: skip
HEALTH_TASK = "health"
"""The task that ends a DAG whose spec says `monitor: {task: true}`."""
_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}


def check_source(text: str) -> list[str]:
    """Problems of a generated DAG's source against the allow-list (empty when clean)."""
    odd = {c for c in text if c != "\n" and unicodedata.category(c) in _UNSAFE_CATEGORIES}
    if odd:
        return [f"control or bidi characters in the code: {sorted(odd)!r}"]
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [f"line {exc.lineno}: not valid Python: {exc.msg}"]
    defined = _defined_names(tree)
    problems: list[str] = []
    for node in ast.walk(tree):
        problem = _node_problem(node, defined)
        if problem:
            problems.append(f"line {getattr(node, 'lineno', '?')}: {problem}")
    return problems


def _defined_names(tree: ast.Module) -> set[str]:
    names = set(ALLOWED_BUILTINS)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name)
    return names


def _node_problem(node: ast.AST, defined: set[str]) -> str | None:
    if not isinstance(node, _NODES):
        return f"{type(node).__name__} is not something the templates write"
    if isinstance(node, ast.ImportFrom):
        allowed = ALLOWED_IMPORTS.get(node.module or "", set())
        bad = [a.name for a in node.names if a.name not in allowed or a.asname]
        return f"import of {bad} from {node.module}" if bad or node.level else None
    if isinstance(node, ast.Call):
        name = dotted(node.func)
        own = isinstance(node.func, ast.Name) and node.func.id in defined
        return None if name in ALLOWED_CALLS or own else f"call of {name or 'an expression'}"
    if isinstance(node, ast.Attribute) and node.attr not in ALLOWED_ATTRIBUTES:
        return f"attribute {node.attr!r}"
    if isinstance(node, ast.Name) and node.id not in defined:
        return f"name {node.id!r}"
    if isinstance(node, ast.Constant) and not isinstance(node.value, str | int | float | None):
        return f"constant {node.value!r}"
    return None


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (base := dotted(node.value)):
        return f"{base}.{node.attr}"
    return None


def module_literals(text: str) -> dict[str, Any]:
    """The module-level constants of a DAG file (`SPEC`, `SPEC_DIR`, `DOC_MD`), evaluated."""
    values: dict[str, Any] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def stream_task_id(stream: str) -> str:
    """The id of a stream's one task, which extracts, transforms and loads it."""
    return f"stream_{stream}"


def expected_tasks(spec: Pipeline) -> dict[str, set[str]]:
    """Task id -> downstream task ids: one task per stream, then the health task after every
    stream when the spec asks for it."""
    after = {HEALTH_TASK} if spec.monitor.task else set()
    tasks: dict[str, set[str]] = {HEALTH_TASK: set()} if spec.monitor.task else {}
    tasks.update({stream_task_id(stream.name): set(after) for stream in spec.streams})
    return tasks


@dataclass
class ImportReport:
    """What Airflow's DagBag made of one DAG file."""

    path: Path
    error: str | None = None
    dag_ids: list[str] = field(default_factory=list)
    tasks: dict[str, set[str]] = field(default_factory=dict)
    templated: list[str] = field(default_factory=list)


_ACCESS_CONTROL_WARNING = r"The airflow\.security\.permissions module is deprecated"


def quiet_airflow() -> None:
    """Import Airflow with its own logs at WARNING and our root log level kept.

    Its import lowers the root level to INFO (every later step would log to the terminal),
    and its DagBag logs through structlog at Airflow's configured level ("Filling up the
    DagBag from /tmp/..."), which only its setting changes. A user's setting wins. Agent
    tools run off the main thread, where the importer cannot arm its timeout signal: it
    warns with a traceback on each import, though the import works.
    """
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    root = logging.getLogger()
    level, handlers = root.level, root.handlers[:]
    import airflow  # noqa: F401

    root.setLevel(level)
    if handlers:
        # Its logging config swaps ours for a handler on stdout (which belongs to `--json`
        # output), unmasked: a warning while a DAG parses must reach the user as ours do.
        root.handlers[:] = handlers
    logging.getLogger("airflow.dag_processing.importers.python_importer").setLevel(logging.ERROR)


def import_dags(folder: Path) -> dict[Path, ImportReport]:
    """Import every DAG file in `folder` with Airflow's DagBag, as the scheduler would."""
    quiet_airflow()
    from airflow.dag_processing.dagbag import DagBag

    # Airflow logs to stdout, which belongs to `--json` output.
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        # Airflow 3 warns of any `access_control` (FAB's DAG-level permissions, which it
        # still applies and has no successor for); a spec's `access` asks for it on purpose.
        # DagBag re-emits an import's warnings as UserWarning: only the message tells it.
        warnings.filterwarnings("ignore", _ACCESS_CONTROL_WARNING)
        bag = DagBag(dag_folder=folder, safe_mode=False, load_op_links=False, bundle_path=folder)
    reports = {p: ImportReport(p) for p in sorted(folder.glob("*.py"))}
    for path, error in bag.import_errors.items():
        full = folder / path  # relative to the bundle path (an absolute path stays as is)
        reports.setdefault(full, ImportReport(full)).error = str(error)
    for dag in bag.dags.values():
        full = folder / dag.fileloc
        report = reports.setdefault(full, ImportReport(full))
        report.dag_ids.append(dag.dag_id)
        for task in dag.tasks:
            report.tasks[task.task_id] = set(task.downstream_task_ids)
            # A task argument is rendered as a Jinja template at run time: there must be none.
            if getattr(task, "op_args", None) or getattr(task, "op_kwargs", None):
                report.templated.append(task.task_id)
    return reports


def structure_problems(report: ImportReport, spec: Pipeline) -> list[str]:
    """How an imported DAG differs from what its spec calls for."""
    if report.error:
        return [f"Airflow cannot import it: {report.error.strip().splitlines()[-1]}"]
    if report.dag_ids != [spec.pipeline]:
        return [f"it defines DAGs {report.dag_ids}, expected [{spec.pipeline!r}]"]
    problems = []
    expected = expected_tasks(spec)
    if set(report.tasks) != set(expected):
        problems.append(f"tasks {sorted(report.tasks)}, expected {sorted(expected)}")
    for task_id, downstream in expected.items():
        if task_id in report.tasks and report.tasks[task_id] != downstream:
            problems.append(
                f"{task_id} leads to {sorted(report.tasks[task_id])}, not {sorted(downstream)}"
            )
    problems += [f"{task_id} takes templated arguments" for task_id in report.templated]
    return problems
