"""What the agent's tools do, as plain functions: render and check, dry-run, save.

The tools in `agent.orchestrator.tools` are thin wrappers over these, so tests check behaviour here.
A spec written by the agent names local files relative to the project folder, as the
user typed them; on disk a spec's paths are relative to the spec's own folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import sqlalchemy as sa

from agent import allowances
from agent.dags.checks import quiet_airflow
from agent.dags.dagfiles import check_pipelines, spec_files
from agent.dags.render import render
from agent.orchestrator.profile_view import quote
from connectors.connections import resolve_target
from connectors.errors import SpecError
from connectors.loaders.duckdb import qualify
from connectors.loaders.prepare import split_table
from connectors.profiling.resolve import context
from connectors.profiling.sample_sql import head
from connectors.project_file import SPECS_DIR, project_of
from connectors.runner import run_pipeline
from connectors.runtime import ReadContext
from connectors.spec import Pipeline, Transform, dump_spec, load_spec
from connectors.spec.sources import FileSource
from connectors.transforms import protector

DAGS_DIR = "dags"
DRY_RUN_ROWS = 200
SHOWN_ROWS = 5


@dataclass(frozen=True)
class Checked:
    """A spec as it will be saved, its DAG, and what the check found."""

    spec: Pipeline
    spec_path: Path
    spec_text: str
    dag_path: Path
    dag_text: str
    problems: list[str] = field(default_factory=list)


def relocate(spec: Pipeline, project_dir: Path, folder: Path) -> Pipeline:
    """The spec with local file paths made relative to `folder` (the spec's own folder)."""
    streams = []
    for stream in spec.streams:
        source = stream.source
        if isinstance(source, FileSource) and "://" not in source.path:
            moved = os.path.relpath(project_dir / source.path, folder.resolve())
            source = source.model_copy(update={"path": Path(moved).as_posix()})
        streams.append(stream.model_copy(update={"source": source}))
    return spec.model_copy(update={"streams": streams})


def saved_form(spec: Pipeline, project_dir: Path, out_dir: Path) -> Pipeline:
    """The spec as `save` would write it under `out_dir` (paths relative to its folder)."""
    return relocate(spec, project_dir, out_dir / SPECS_DIR)


def render_checked(spec: Pipeline, project_dir: Path, out_dir: Path) -> Checked:
    """Render the spec's DAG as it will be saved under `out_dir`, and check both.

    The check runs on a scratch copy of the layout (Airflow imports the DAG there), so
    nothing is written to `out_dir`; the bytes are those `save` writes.
    """
    spec_path = out_dir / SPECS_DIR / f"{spec.pipeline}.yaml"
    saved = saved_form(spec, project_dir, out_dir)
    dag = render(saved, spec_path, out_dir / DAGS_DIR)
    spec_text = dump_spec(saved)
    quiet_airflow()
    with tempfile.TemporaryDirectory(prefix="dagsmith-check-") as tmp:
        root = Path(tmp)
        (root / SPECS_DIR).mkdir()
        (root / DAGS_DIR).mkdir()
        # The project's other specs: a spec that runs after one of them renders from it.
        if spec_path.parent.is_dir():
            for other in spec_files([spec_path.parent]):
                shutil.copyfile(other, root / SPECS_DIR / other.name)
        scratch_spec = root / SPECS_DIR / spec_path.name
        scratch_spec.write_text(spec_text, encoding="utf-8")
        (root / DAGS_DIR / dag.path.name).write_text(dag.text, encoding="utf-8")
        checked = check_pipelines([scratch_spec], root / DAGS_DIR, project=project_dir)
        problems = [p for r in checked for p in r.problems]
    return Checked(saved, spec_path, spec_text, dag.path, dag.text, problems)


def overwrites(checked: Checked) -> bool:
    """Whether saving would replace a different spec of the same name."""
    path = checked.spec_path
    return path.is_file() and path.read_text(encoding="utf-8") != checked.spec_text


def save(checked: Checked, overwrite: bool = False) -> list[Path]:
    """Write a checked spec and its DAG, and the folders outside the project it reads local
    files from into the project's file (`allowances.keep`), when they are not there yet.

    Raises:
        SpecError: The check found problems, or a different spec of that name exists and
            `overwrite` is false.
    """
    if checked.problems:
        raise SpecError(f"{checked.spec.pipeline}: the check failed: {checked.problems[0]}")
    if not overwrite and overwrites(checked):
        raise SpecError(
            f"{checked.spec_path} exists and holds another spec",
            hint="allow overwriting it (build --yes, or yes at the chat's /save), or name the "
            "pipeline differently ('call it NAME')",
        )
    for path, text in (
        (checked.spec_path, checked.spec_text),
        (checked.dag_path, checked.dag_text),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    kept = allowances.keep(checked.spec, checked.spec_path, project_of(checked.spec_path.parent))
    return [checked.spec_path, checked.dag_path, *kept]


def replaces_existing(spec: Pipeline, project_dir: Path) -> list[str]:
    """Tables that already exist and that a replace-mode stream would overwrite."""
    target = resolve_target(spec.target, project_dir)
    engine = sa.create_engine(target.url)
    try:
        inspector = sa.inspect(engine)
        return [
            s.load.table
            for s in spec.streams
            if s.load.mode == "replace" and _exists(inspector, s.load.table)
        ]
    finally:
        engine.dispose()


def drops_columns(spec: Pipeline, spec_path: Path) -> list[str]:
    """Columns the saved spec of this pipeline loads and this one would stop loading."""
    if not spec_path.is_file():
        return []
    try:
        saved = load_spec(spec_path)
    except SpecError:
        return []
    dropped: list[str] = []
    for stream in spec.streams:
        old = next((s for s in saved.streams if s.name == stream.name), None)
        if old is not None:
            dropped += [f"{stream.name}: {c}" for c in _excluded(old.transform, stream.transform)]
    return dropped


def _excluded(old: Transform, new: Transform) -> list[str]:
    """Columns `old` loads that `new` leaves out (by `drop`, or by a narrower `select`)."""
    out = [c for c in new.drop if c not in old.drop and (old.select is None or c in old.select)]
    if new.select is not None:
        if old.select is None:
            out.append(f"every column but {', '.join(new.select)}")
        else:
            out += [c for c in old.select if c not in new.select]
    return out


def _exists(inspector: sa.Inspector, table: str) -> bool:
    schema, _, name = table.rpartition(".")
    return inspector.has_table(name, schema=schema or None)


ALL_REJECTED_HINT = (
    "change or drop the rule the reasons name (a cast the values cannot take), or fix the "
    "source's options (delimiter, encoding, header)"
)
"""What to do when a dry run rejected every row it could load."""
SHOWN_REASONS = 3


@dataclass(frozen=True)
class DryRun:
    """What a run on a sample did: the summary, rejects by reason, and loaded rows."""

    summary: dict[str, Any]
    rejects: dict[str, list[tuple[str, int]]]
    rows: dict[str, list[dict[str, Any]]]

    def failures(self, reasons: bool = True) -> dict[str, str]:
        """Stream -> why its dry run failed: an error, or every row that passed the filter
        rejected, with the top `reasons` and their counts. Such a spec would run `ok` and
        load nothing, so every check that dry-runs treats it as failed."""
        failed = {}
        for stream in self.summary["streams"]:
            if stream["status"] == "failed":
                failed[stream["stream"]] = str(stream["error"])
            elif stream["rows_rejected"] and not stream["rows_loaded"]:
                failed[stream["stream"]] = self._all_rejected(stream, reasons)
        return failed

    def _all_rejected(self, stream: dict[str, Any], reasons: bool) -> str:
        rules = ", ".join(f"{rule} {n}" for rule, n in stream["rejected_by_rule"].items())
        filtered = f"filtered out {stream['rows_filtered']}, " if stream["rows_filtered"] else ""
        shown = self.rejects.get(stream["table"], [])[:SHOWN_REASONS] if reasons else []
        top = "; ".join(f"{count} {quote(reason, 120)}" for reason, count in shown)
        return (
            f"rejected every row it could load (read {stream['rows_read']}, {filtered}"
            f"rejected {stream['rows_rejected']}, loaded 0; by rule: {rules})"
            + (f"; top reasons: {top}" if top else "")
        )


def dry_run(spec: Pipeline, project_dir: Path, rows: int = DRY_RUN_ROWS) -> DryRun:
    """Run the real pipeline on the first `rows` rows of each source into a scratch DuckDB.

    Nothing reaches the spec's target; incremental watermarks start empty.
    """
    with tempfile.TemporaryDirectory(prefix="dagsmith-dry-") as tmp:
        root = Path(tmp)
        if (dotenv := project_dir / ".env").is_file():
            # The rules' own connections (a `protect` hash key) are looked up from here.
            shutil.copyfile(dotenv, root / ".env")
        scratch = _on_samples(spec, context(project_dir), root, rows)
        summary = run_pipeline(scratch, base_dir=root, project_dir=root)
        database = str(resolve_target(None, root).url.database)
        # No file when every stream failed before its load opened it: read an empty database.
        found = database if Path(database).is_file() else ":memory:"
        with closing(duckdb.connect(found, read_only=found != ":memory:")) as conn:
            tables = [stream.load.table for stream in scratch.streams]
            return DryRun(
                summary.to_dict(),
                {table: _rejects(conn, table) for table in tables},
                {table: _rows(conn, table) for table in tables},
            )


def _on_samples(spec: Pipeline, ctx: ReadContext, root: Path, rows: int) -> Pipeline:
    """The spec reading a Parquet sample of each source, into the embedded target."""
    streams = []
    for stream in spec.streams:
        # The stream's protection guards what the sample's reader rejects or says.
        ctx.rejects.protector = protector(stream.transform, ctx.project_dir)
        sample, _ = head(stream.source, ctx, rows)
        pq.write_table(sample, root / f"{stream.name}.parquet")
        source = {"kind": "parquet", "path": f"{stream.name}.parquet"}
        streams.append({**stream.model_dump(mode="json"), "source": source})
    return Pipeline.model_validate(
        {**spec.model_dump(mode="json"), "target": None, "streams": streams}
    )


def _rows(conn: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    if not _has(conn, table):
        return []
    cursor = conn.execute(f"SELECT * FROM {qualify(*split_table(table))} LIMIT {SHOWN_ROWS}")
    rows = cursor.fetchall()
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in rows]


def _rejects(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int]]:
    name = f"{table}__rejects"
    if not _has(conn, name):
        return []
    rejects = qualify(*split_table(name))
    query = f"SELECT reason, COUNT(*) FROM {rejects} GROUP BY reason ORDER BY 2 DESC LIMIT 10"
    return [(str(reason), int(count)) for reason, count in conn.execute(query).fetchall()]


def _has(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = split_table(table)
    found = conn.execute(
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [schema or "main", name],
    )
    return bool(found.fetchall())
