"""Set a field of a spec in its YAML text, leaving every other byte as it was.

A proposed change should read in a diff as the one line it is, not as a spec written anew:
the field's node is found with PyYAML's composer (which knows where each node starts and
ends) and only its text is replaced, or a line (or a flow mapping's entry) is added. The
result is checked by loading it again; should the edit not give exactly the data wanted,
the whole document is written out instead (comments and layout lost, the meaning exact).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import yaml

Path = Sequence[str | int]


def set_field(text: str, path: Path, value: Any) -> str:
    """`text` with the field at `path` (keys and list indexes) set to `value`."""
    wanted = copy.deepcopy(yaml.safe_load(text))
    _assign(wanted, path, value)
    try:
        root = yaml.compose(text)
        if root is None:
            raise ValueError("an empty document")
        edited = _edit(text, root, path, value)
        if yaml.safe_load(edited) == wanted:
            return edited
    except (yaml.YAMLError, ValueError, KeyError):
        pass
    return yaml.safe_dump(wanted, sort_keys=False, allow_unicode=True, width=100)


def _assign(data: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {}) if isinstance(part, str) else data[part]
    data[path[-1]] = value


def _edit(text: str, node: yaml.Node, path: Path, value: Any) -> str:
    part = path[0]
    if isinstance(part, int):
        if not isinstance(node, yaml.SequenceNode):
            raise ValueError("not a list")
        return _edit(text, node.value[part], path[1:], value)
    if not isinstance(node, yaml.MappingNode):
        raise ValueError("not a mapping")
    for key, child in node.value:
        if key.value == part:
            if len(path) == 1:
                return _replace(text, child, value)
            return _edit(text, child, path[1:], value)
    nested: Any = value
    for inner in reversed(path[1:]):
        nested = {inner: nested}
    return _insert(text, node, str(part), nested)


def _flow(value: Any) -> str:
    """A value in YAML's flow style, on one line."""
    dumped = yaml.safe_dump(
        [value], default_flow_style=True, sort_keys=False, allow_unicode=True, width=10**6
    )
    return dumped.strip()[1:-1]


def _replace(text: str, node: yaml.Node, value: Any) -> str:
    start, end = node.start_mark.index, node.end_mark.index
    old = text[start:end]
    kept = old[len(old.rstrip()) :]  # a block node ends where the next token starts
    if getattr(node, "flow_style", True) or not isinstance(value, dict | list) or not value:
        new = _flow(value)
    else:
        indent = " " * node.start_mark.column
        lines = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100).splitlines()
        new = ("\n" + indent).join(lines)
    return text[:start] + new + kept + text[end:]


def _insert(text: str, node: yaml.MappingNode, key: str, value: Any) -> str:
    if node.flow_style:
        close = node.end_mark.index - 1
        comma = ", " if node.value else ""
        return text[:close].rstrip() + f"{comma}{key}: {_flow(value)}" + text[close:]
    if not node.value:
        raise ValueError("an empty block mapping")
    indent = " " * node.value[0][0].start_mark.column
    last = node.value[-1][1]
    end = len(text[: last.end_mark.index].rstrip())
    newline = text.find("\n", end)
    at = len(text) if newline < 0 else newline + 1
    line = f"{indent}{key}: {_flow(value)}\n"
    return text[:at] + ("" if newline >= 0 else "\n") + line + text[at:]
