"""Every command line the README and its guides show, run as a reader would run it; every
`--help`; every link of the README and `docs/`.

The `console` blocks (lines after `$ `) and `sh` blocks (every line) of the README and of the
docs pages its sections moved to (`PAGES`) are parsed; each block runs, command after
command, in a scratch project of its own that holds the example data (`examples/`,
`data/orders.csv`, `shop.db`), and each command's exit code must be the one the page shows
(0 unless `EXIT` says otherwise). A block that needs a spec, a git history or a database
gets it from `SETUP` first. Commands this machine cannot run are in `SKIPPED`, each with its
reason; a command on those pages that is neither run nor skipped fails the test.
"""

from __future__ import annotations

import functools
import itertools
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

import pytest
import sqlalchemy as sa
import typer.main
from markdown_it import MarkdownIt
from markdown_it.token import Token

from agent.cli.app import app
from tests.conftest import PG_URL, Cli
from tests.test_cli import ROOT

PAGES = (
    "README.md",
    "docs/duckdb.md",
    "docs/pipelines.md",
    "docs/profiling.md",
    "docs/airflow.md",
    "docs/pull-requests.md",
    "docs/build.md",
    "docs/chat.md",
)
"""The README and the pages that hold the command blocks its sections once held."""
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKDOWN = MarkdownIt("commonmark").enable("table")


def _without_comment(line: str) -> str:
    return shlex.join(shlex.split(line, comments=True))


DUCKDB_PYTHON = (
    "python -c \"import duckdb; duckdb.connect('.dagsmith/warehouse.duckdb', read_only=True)"
    ".sql('FROM orders').show()\""
)
SKIPPED = {
    "make demo": "creates a virtualenv and installs from PyPI; the build it runs is run below",
    "make test": "runs the whole test suite, this test included",
    "export 'AIRFLOW_HOME=$PWD/.airflow' AIRFLOW__CORE__LOAD_EXAMPLES=False "
    "'AIRFLOW__CORE__DAGS_FOLDER=$PWD/dags'": "a shell's environment for the two commands below",
    "airflow db migrate": "tests/dags/ run generated DAGs with dag.test() on an Airflow "
    "metadata database of their own",
    "airflow dags test orders_daily": "tests/dags/ run generated DAGs with dag.test(), what "
    "`airflow dags test` runs",
    "python -m venv .venv": "the reader's own environment; this test runs the installed dagsmith",
    ". .venv/bin/activate": "the reader's own environment; this test runs the installed dagsmith",
    "pip install -r /path/to/dagsmith/requirements.lock '/path/to/dagsmith[agent]'": "installs "
    "what `make install` installs from this repository's lock file",
    "dagsmith profile https://api.shop.com/v1/orders --connection shop": "network: "
    "api.shop.com is an example host (REST profiles run on loopback in tests/profiling)",
    "dagsmith init mysql://root@127.0.0.1:3306/test --table orders --name maria": "needs a "
    "table in MariaDB's shared `test` database; tests/profiling/test_init_runs.py runs the "
    "same init then run on a database of its own",
    "duckdb .dagsmith/warehouse.duckdb": "the DuckDB command-line shell is a separate install "
    "(the Python package has none); tests/loaders/test_duckdb.py reads the file from Python",
    _without_comment(DUCKDB_PYTHON): "reads a table that a run in another block loads; "
    "tests/loaders/test_duckdb.py reads the file the same way",
}
"""Commands not run, wherever they are shown, each with the reason."""
EXIT = {
    # The pages show each of these failing, with the output of that failure.
    "docs/pipelines.md console: dagsmith validate pipelines/orders.yaml": 2,
    "docs/pull-requests.md console: dagsmith review": 1,
    "docs/build.md console: dagsmith build 'load examples/data/orders.csv into table orders, "
    "cast note to bigint, fail if more than 1 rows are rejected'": 1,
}
"""Exit codes other than 0, keyed by page, block language and command."""
SPEC = (ROOT / "examples" / "orders.yaml").read_text()
BROKEN = SPEC.replace("{min: 0}", "{minimum: 0}").replace(", keys: [order_id]}", "}")


class Block(NamedTuple):
    """A `console` or `sh` block of a page: its command lines, and what a chat is typed."""

    page: str
    language: str
    commands: list[str]
    typed: str

    def key(self, command: str) -> str:
        """How `SETUP` and `EXIT` name a command of this block."""
        return f"{self.page} {self.language}: {command}"


def blocks(page: str) -> list[Block]:
    """The console and sh blocks of `page`, continuation lines joined, comments dropped."""
    found = []
    for token in MARKDOWN.parse((ROOT / page).read_text()):
        if token.type != "fence" or token.info not in {"console", "sh"}:
            continue
        lines = [line.strip() for line in token.content.replace("\\\n", " ").splitlines()]
        if token.info == "console":
            typed = "".join(line[2:] + "\n" for line in lines if line.startswith("› "))
            lines = [line[2:] for line in lines if line.startswith("$ ")]
        else:
            typed = ""
        commands = [_without_comment(line) for line in lines if line and line[0] != "#"]
        found.append(Block(page, token.info, commands, typed))
    return found


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def _repo(folder: Path, dagsmith: Cli) -> None:
    """A git repository on `main` whose HEAD has the spec and its DAG, and an `origin`."""
    _spec(folder, dagsmith)
    assert dagsmith("render", "pipelines/orders.yaml", "--out", "dags", cwd=folder).returncode == 0
    _git(folder, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Reader"), ("user.email", "reader@example.com")):
        _git(folder, "config", key, value)
    _git(folder, "add", "pipelines", "dags", "data")
    _git(folder, "commit", "-q", "-m", "orders")
    _git(folder, "clone", "-q", "--bare", str(folder), str(folder.parent / "origin.git"))
    _git(folder, "remote", "add", "origin", str(folder.parent / "origin.git"))
    _git(folder, "fetch", "-q", "origin")


def _stale_change(folder: Path, dagsmith: Cli) -> None:
    """A branch whose spec changed and whose DAG was not rendered again: review fails."""
    _repo(folder, dagsmith)
    _git(folder, "switch", "-q", "-c", "hourly")
    spec = folder / "pipelines" / "orders.yaml"
    spec.write_text(spec.read_text().replace('"0 6 * * *"', "'@hourly'"))
    _git(folder, "commit", "-q", "-am", "hourly")


def _spec(folder: Path, _dagsmith: Cli) -> None:
    (folder / "pipelines").mkdir(exist_ok=True)
    (folder / "pipelines" / "orders.yaml").write_text(SPEC.replace("data/", "../data/"))


def _broken(folder: Path, _dagsmith: Cli) -> None:
    (folder / "pipelines").mkdir(exist_ok=True)
    (folder / "pipelines" / "orders.yaml").write_text(BROKEN)


def _pr(folder: Path, dagsmith: Cli) -> None:
    _repo(folder, dagsmith)
    spec = folder / "pipelines" / "orders.yaml"
    spec.write_text(spec.read_text().replace("Daily orders", "Daily shop orders"))


SETUP: dict[str, Callable[[Path, Cli], None]] = {
    "docs/pipelines.md console: dagsmith validate pipelines/orders.yaml": _broken,
    "docs/airflow.md console: dagsmith render pipelines/orders.yaml --out dags": _spec,
    "docs/pull-requests.md console: dagsmith pr pipelines/orders.yaml": _pr,
    "docs/pull-requests.md console: dagsmith review": _stale_change,
    "docs/pull-requests.md sh: dagsmith review": _repo,
}
"""What the folder must hold before a block, keyed by the block's page, language and first
command (`EXIT` too: the `sh` review block runs on a clean history, the `console` one shows
a failing check)."""


@pytest.fixture(scope="module")
def shop_database() -> Iterator[str]:
    """A PostgreSQL database of our own holding `public.orders`, as connection `shop`."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_URL).set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric)"))
        conn.execute(
            sa.text("INSERT INTO public.orders SELECT i, i * 1.5 FROM generate_series(1, 20) i")
        )
    engine.dispose()
    try:
        yield url.set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _project(folder: Path) -> Path:
    shutil.copytree(ROOT / "examples", folder / "examples")
    shutil.copytree(ROOT / "examples" / "data", folder / "data")
    with sa.create_engine(f"sqlite:///{folder / 'shop.db'}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL)"))
        conn.execute(sa.text("INSERT INTO orders VALUES (1, 9.5), (2, 12.0)"))
    return folder


BLOCKS = [block for page in PAGES for block in blocks(page) if block.commands]


@pytest.mark.parametrize(
    "block", BLOCKS, ids=[f"{b.page} {b.language}: {b.commands[0][:50]}" for b in BLOCKS]
)
def test_block_runs(block: Block, tmp_path: Path, shop_database: str, dagsmith: Cli) -> None:
    folder = _project(tmp_path / "project")
    if setup := SETUP.get(block.key(block.commands[0])):
        setup(folder, dagsmith)
    env = {"AIRFLOW_CONN_SHOP": shop_database, "DAGSMITH_MODEL": "offline", "OPENAI_API_KEY": ""}
    for command in block.commands:
        if command in SKIPPED:
            continue
        argv = shlex.split(command)
        assert argv[0] == "dagsmith", f"{block.page}: command not run nor skipped: {command}"
        stdin = block.typed if argv[1:] == ["chat"] else None
        done = dagsmith(*argv[1:], cwd=folder, env=env, stdin=stdin)
        expected = EXIT.get(block.key(command), 0)
        assert done.returncode == expected, f"$ {command}\n{done.stdout}\n{done.stderr}"


def test_every_command_shown_is_run_or_skipped_with_a_reason() -> None:
    every = [block for page in PAGES for block in blocks(page)]
    commands = [command for block in every for command in block.commands]
    assert len(commands) >= 20
    assert set(SKIPPED) <= set(commands), set(SKIPPED) - set(commands)
    keyed = {block.key(command) for block in every for command in block.commands}
    assert set(EXIT) | set(SETUP) <= keyed, (set(EXIT) | set(SETUP)) - keyed


def test_the_readme_examples_are_shown_with_their_output() -> None:
    """Each example of the README's command table is a command line of a block in README.md
    or docs/ (where a reader sees what it prints; on `PAGES`, the test above runs it)."""
    section = (ROOT / "README.md").read_text().split("\n## The commands\n")[1].split("\n## ")[0]
    examples = re.findall(r"^\|.*`(dagsmith [^`]+)` \|$", section, re.M)
    assert len(examples) >= 9, section
    shown = {
        command
        for page in DOCS
        for block in blocks(str(page.relative_to(ROOT)))
        for command in block.commands
    }
    assert {_without_comment(example) for example in examples} <= shown


def test_docs_index_and_cli_page_are_complete() -> None:
    """docs/README.md lists every page of docs/; docs/cli.md names every command."""
    index = (ROOT / "docs" / "README.md").read_text()
    assert [page.name for page in DOCS[1:] if f"]({page.name})" not in index] == ["README.md"]
    cli = (ROOT / "docs" / "cli.md").read_text()
    commands = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert [command for command in commands if f"`dagsmith {command}" not in cli] == []


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


@functools.cache
def _anchors(page: Path) -> frozenset[str]:
    """The anchors of a page: its headings' (a repeated one gets `-1`, `-2`...) and HTML ids."""
    tokens = MARKDOWN.parse(page.read_text())
    found: set[str] = set()
    seen: dict[str, int] = {}
    for token, after in itertools.pairwise(tokens):
        if token.type == "heading_open":
            parts = after.children or []
            slug = _slug("".join(c.content for c in parts if c.type in {"text", "code_inline"}))
            found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    html = [t.content for t in _inline(tokens) if t.type in {"html_inline", "html_block"}]
    found.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', "".join(html)))
    return frozenset(found)


def _inline(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from token.children or []


@pytest.mark.parametrize("page", DOCS, ids=[str(page.relative_to(ROOT)) for page in DOCS])
def test_links_resolve(page: Path) -> None:
    """Every relative link names a file that exists, and an anchor that a heading makes."""
    broken = []
    for token in _inline(MARKDOWN.parse(page.read_text())):
        href = token.attrs.get("href") or token.attrs.get("src")
        parts = urlsplit(str(href or ""))
        if not href or parts.scheme or parts.netloc:
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.exists():
            broken.append(f"{href}: no such file")
        elif (
            parts.fragment
            and target.suffix == ".md"
            and {parts.fragment, unquote(parts.fragment)}.isdisjoint(_anchors(target))
        ):
            broken.append(f"{href}: no such heading in {target.name}")
    assert broken == []


@pytest.mark.parametrize("command", sorted(typer.main.get_command(app).commands))  # type: ignore[attr-defined]
def test_help_of_every_command(command: str, tmp_path: Path, dagsmith: Cli) -> None:
    done = dagsmith(command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"dagsmith {command}" in done.stdout


def test_root_help_and_options_after_the_command(tmp_path: Path, dagsmith: Cli) -> None:
    assert dagsmith("--help", cwd=tmp_path).returncode == 0
    folder = _project(tmp_path / "project")
    done = dagsmith("run", "examples/orders.yaml", "-v", "--log-format", "json", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert '"stream": "orders"' in done.stderr  # JSON log lines, at INFO: both options held
    bad = dagsmith("validate", "examples/orders.yaml", "--log-format=xml", cwd=folder)
    assert bad.returncode == 2 and "unknown log format 'xml'" in bad.stderr
