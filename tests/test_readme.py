"""Every command line the README shows, run as a reader would run it, and every `--help`.

The README's `console` blocks (lines after `$ `) and `sh` blocks (every line) are parsed;
each block runs, command after command, in a scratch project of its own that holds the
example data (`examples/`, `data/orders.csv`, `shop.db`), and each command's exit code
must be the one the README shows (0 unless `EXIT` says otherwise). A block that needs a
spec, a git history or a database gets it from `SETUP` first. Commands this machine
cannot run are in `SKIPPED`, each with its reason; a README command that is neither run
nor skipped fails the test.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer.main

from agent.cli.app import app
from tests.conftest import PG_URL, Cli
from tests.test_cli import ROOT

README = ROOT / "README.md"


def _without_comment(line: str) -> str:
    return shlex.join(shlex.split(line, comments=True))


DUCKDB_PYTHON = (
    "python -c \"import duckdb; duckdb.connect('.dagsmith/warehouse.duckdb', read_only=True)"
    ".sql('FROM orders').show()\""
)
SKIPPED = {
    "make demo": "creates a virtualenv and installs from PyPI; the build it runs is run below",
    "make test": "runs the whole test suite, this test included",
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
EXIT = {
    # The README shows each of these failing, with the output of that failure.
    "console: dagsmith validate pipelines/orders.yaml": 2,
    "console: dagsmith review": 1,
    "console: dagsmith build 'load examples/data/orders.csv into table orders, cast note to "
    "bigint, fail if more than 1 rows are rejected'": 1,
}
SPEC = (ROOT / "examples" / "orders.yaml").read_text()
BROKEN = SPEC.replace("{min: 0}", "{minimum: 0}").replace(", keys: [order_id]}", "}")


def blocks() -> list[tuple[str, list[str]]]:
    """(language, command lines) of each console and sh block, continuation lines joined."""
    found = re.findall(r"^(`{3,})(console|sh)\n(.*?)^\1$", README.read_text(), re.M | re.S)
    result = []
    for _, language, body in found:
        text = body.replace("\\\n", " ")
        lines = [line.strip() for line in text.splitlines()]
        if language == "console":
            lines = [line[2:] for line in lines if line.startswith("$ ")]
        commands = [_without_comment(line) for line in lines if line and line[0] != "#"]
        result.append((language, commands))
    return result


def _chat_input() -> str:
    """The lines a chat block shows typed after its prompt character."""
    found = re.findall(r"^(`{3,})console\n(.*?)^\1$", README.read_text(), re.M | re.S)
    bodies = [body for _, body in found]
    chat = next(body for body in bodies if "$ dagsmith chat" in body)
    return "".join(line[2:] + "\n" for line in chat.splitlines() if line.startswith("› "))


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
    "console: dagsmith validate pipelines/orders.yaml": _broken,
    "console: dagsmith render pipelines/orders.yaml --out dags": _spec,
    "console: dagsmith pr pipelines/orders.yaml": _pr,
    "console: dagsmith review": _stale_change,
    "sh: dagsmith review": _repo,
}
"""What the folder must hold before a block, keyed by the block's language and first
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


BLOCKS = [block for block in blocks() if block[1]]


@pytest.mark.parametrize(
    ("language", "commands"), BLOCKS, ids=[f"{lang}: {c[0][:50]}" for lang, c in BLOCKS]
)
def test_readme_block_runs(
    language: str, commands: list[str], tmp_path: Path, shop_database: str, dagsmith: Cli
) -> None:
    folder = _project(tmp_path / "project")
    if setup := SETUP.get(f"{language}: {commands[0]}"):
        setup(folder, dagsmith)
    env = {"AIRFLOW_CONN_SHOP": shop_database, "DAGSMITH_MODEL": "offline", "OPENAI_API_KEY": ""}
    for command in commands:
        if command in SKIPPED:
            continue
        argv = shlex.split(command)
        assert argv[0] == "dagsmith", f"README command not run nor skipped: {command}"
        stdin = _chat_input() if argv[1:] == ["chat"] else None
        done = dagsmith(*argv[1:], cwd=folder, env=env, stdin=stdin)
        expected = EXIT.get(f"{language}: {command}", 0)
        assert done.returncode == expected, f"$ {command}\n{done.stdout}\n{done.stderr}"


def test_every_readme_command_is_run_or_skipped_with_a_reason() -> None:
    commands = [command for _, block in blocks() for command in block]
    assert len(commands) >= 20
    assert set(SKIPPED) <= set(commands), set(SKIPPED) - set(commands)
    keyed = {f"{language}: {command}" for language, block in blocks() for command in block}
    assert set(EXIT) | set(SETUP) <= keyed, (set(EXIT) | set(SETUP)) - keyed


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
