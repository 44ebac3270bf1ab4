"""The command groups: options accepted after the command, a default command, help reflowed.

Click takes a group's options only before the command's name (`dagsmith -v run X`), while
people also write them at the end (`dagsmith run X -v`), as docs/cli.md's table shows.
The group moves its own options found after the command to the front before parsing.
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperGroup, TyperOption

_WRAPPED = re.compile(r"(?<=\S)\n(?=\S)")
"""A line break inside a paragraph: the docstring's wrapping, not the help's."""


class _ReflowedGroup(TyperGroup):
    """A group whose commands' help paragraphs are re-wrapped to the terminal's width.

    Typer's rich help keeps a docstring's line breaks after its first paragraph, so help
    wrapped at 100 columns in the source breaks mid-sentence in an 80-column terminal;
    markdown mode would reflow it but costs every `--help` an import of markdown-it.
    """

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, its help's paragraphs joined into one line each."""
        command = super().get_command(ctx, cmd_name)
        if command is not None and command.help:
            command.help = _WRAPPED.sub(" ", command.help)
        return command


class GlobalOptionsGroup(_ReflowedGroup):
    """A group whose options (`-v`, `--log-format FMT`...) may follow the command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Move the group's options that follow the command before it, then parse."""
        return super().parse_args(ctx, self._hoisted(args))

    def _hoisted(self, args: list[str]) -> list[str]:
        flags, valued = _option_names(self.params)
        front: list[str] = []
        rest: list[str] = []
        index, command = 0, None
        while index < len(args):
            arg = args[index]
            if arg == "--":
                rest.extend(args[index:])
                break
            name = arg.split("=", 1)[0]
            if command is not None and (arg in flags or name in valued):
                takes_next = name in valued and "=" not in arg and index + 1 < len(args)
                front.extend(args[index : index + 1 + takes_next])
                index += 1 + takes_next
                continue
            if command is None and (command := self.commands.get(arg)) is not None:
                # A command's own option of the same name is the command's.
                own = set().union(*_option_names(command.params))
                flags, valued = flags - own, valued - own
            rest.append(arg)
            index += 1
        return front + rest


def _option_names(params: list[Any]) -> tuple[set[str], set[str]]:
    """The names of the options among `params`: (flags, options that take a value)."""
    flags: set[str] = set()
    valued: set[str] = set()
    for param in params:
        if isinstance(param, TyperOption):
            names = set(param.opts) | set(param.secondary_opts)
            (flags if param.is_flag else valued).update(names)
    return flags, valued


class DefaultCommandGroup(_ReflowedGroup):
    """A group that runs its first command when the arguments name none of its commands:
    `dagsmith runs orders` is `dagsmith runs list orders`, beside `dagsmith runs show ID`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Put the default command's name in front unless a command or `--help` leads."""
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [next(iter(self.commands)), *args]
        return super().parse_args(ctx, args)
