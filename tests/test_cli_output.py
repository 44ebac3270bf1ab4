"""Piped output without rich prints what rich printed: rich itself is the reference."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console
from rich.markup import escape as rich_escape
from typer.testing import CliRunner

from agent.cli.app import app
from agent.cli.output import Output, escape, strip_markup

TEXTS = [
    "plain text",
    "a [list] in brackets and [/path/x]",
    r"a backslash \ and \[escaped] and \\[double]",
    "ends with a backslash \\",
    "postgresql://user:***@host:5432/db?x=[1]",
    "[bold]name[/bold] and [#ff0000]hex[/]",
    "ünïcødé · ✓ ✗ → [@click]",
]


@pytest.mark.parametrize("text", TEXTS)
def test_escape_is_riches(text: str) -> None:
    assert escape(text) == rich_escape(text)


@pytest.mark.parametrize("text", TEXTS)
def test_markup_prints_as_rich_prints_it_to_a_file(text: str) -> None:
    for markup in (escape(text), f"[bold red]error:[/] {escape(text)}", f"x=\\[1] {text[:5]}"):
        expected = io.StringIO()
        Console(file=expected, soft_wrap=True).print(markup, highlight=False)
        assert strip_markup(markup) + "\n" == expected.getvalue()


def test_output_prints_plain_text_to_a_pipe_without_rich(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    err = Output(stderr=True)
    assert err.plain
    err.print(f"[bold red]error:[/] {escape('no [file] at /x' * 20)}", highlight=False)
    err.table(("name", "rows"), [("a", "1"), ("long_name", "1,000")], right=1)
    assert capsys.readouterr().err == (
        f"error: {'no [file] at /x' * 20}\nname        rows\na              1\nlong_name  1,000\n"
    )
    assert err._console is None


def test_output_hands_rich_objects_to_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.table import Table

    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    out = Output()
    table = Table("column")
    table.add_row("value")
    out.print(table)
    assert "value" in sys.stdout.getvalue() and "┃" in sys.stdout.getvalue()
    assert not out.plain  # its rich console now prints for it


def test_command_help_is_wrapped_to_the_terminal_not_to_the_source() -> None:
    """A docstring's line breaks (wrapped at 100 columns) do not break the help's lines."""
    wide = CliRunner().invoke(app, ["init", "--help"], env={"COLUMNS": "200"}, color=False)
    assert wide.exit_code == 0, wide.output
    assert "becomes the connection NAME_source, saved in the project's .env" in wide.output
    narrow = CliRunner().invoke(app, ["runs", "show", "--help"], env={"COLUMNS": "60"})
    lines = [line.strip(" │") for line in narrow.output.splitlines()]
    assert max(map(len, lines)) <= 60
    assert "Show one run whole: per stream its counts, times," in lines
