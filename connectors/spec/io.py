"""Reading and writing specs as YAML, with errors that name the file, line and field."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connectors.errors import SpecError
from connectors.spec.models import Pipeline

SUFFIXES = (".yaml", ".yml")
"""What a spec file's name ends with."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which YAML would silently overwrite."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def load_spec(path: str | Path) -> Pipeline:
    """Read and validate a spec file; SpecError names the file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such spec file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the spec ({exc})") from exc
    return parse_spec(text, str(path))


def parse_spec(text: str, origin: str = "<spec>") -> Pipeline:
    """Validate YAML text as a Pipeline; `origin` names it in errors."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin}:{mark.line + 1}:{mark.column + 1}" if mark else origin
        raise SpecError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: a spec is a YAML mapping with 'pipeline' and 'streams'")
    _refuse_split_types(root, origin)
    try:
        return Pipeline.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_describe(exc, root, origin), hint=_HINT) from None


_HINT = "`dagsmith schema` prints every field and what it allows."
_OPENED = re.compile(r"\(\s*\d+\s*$")
"""A plain scalar cut after `decimal(10`: the rest of `decimal(10,2)` went to a new key."""


def _refuse_split_types(node: yaml.Node | None, origin: str) -> None:
    """Refuse `{amount: decimal(10,2)}`: YAML's flow mapping splits it at the comma into
    `amount: decimal(10` and a key `2)`, which would be reported as two unrelated problems."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_split_types(item, origin)
    if not isinstance(node, yaml.MappingNode):
        return
    pairs = node.value
    for at, (key, value) in enumerate(pairs):
        cut = isinstance(value, yaml.ScalarNode) and value.style is None
        if node.flow_style and cut and _OPENED.search(value.value) and at + 1 < len(pairs):
            whole = f"{value.value},{pairs[at + 1][0].value}"
            mark = value.start_mark
            raise SpecError(
                f"{origin}:{mark.line + 1}:{mark.column + 1}: {key.value}: {whole} is cut at "
                "its comma inside { }",
                hint=f"quote it ('{whole}') or write the mapping one key per line",
            )
        _refuse_split_types(value, origin)


def _describe(exc: ValidationError, root: yaml.Node | None, origin: str) -> str:
    lines = [f"{origin}: {exc.error_count()} problem(s) in the spec"]
    for error in exc.errors(include_url=False):
        node, path = _locate(root, error["loc"])
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = _unknown_field(error["loc"])
        elif error["type"] == "union_tag_invalid":
            message = f"unknown kind; known kinds: {error['ctx']['expected_tags']}"
        lines.append(f"  {origin}{line}: {path or '(top)'}: {message}")
    return "\n".join(lines)


def _unknown_field(loc: tuple[Any, ...]) -> str:
    """'unknown field', with the fields of that place in the spec its name is closest to."""
    import difflib  # only a spec with an unknown field pays for it

    schema = Pipeline.model_json_schema()
    nodes: list[dict[str, Any]] = [schema]
    for part in loc[:-1]:
        nodes = [child for node in nodes for child in _children(node, part, schema)] or nodes
    names = {
        name for node in nodes for n in _branches(node, schema) for name in n.get("properties", {})
    }
    word = str(loc[-1])
    close = difflib.get_close_matches(word, sorted(names), n=3, cutoff=0.7)
    # A shortened or lengthened name (`minimum` for `min`) is a near miss difflib scores low.
    close += [n for n in sorted(names) if len(n) >= 3 and n not in close and word.startswith(n)]
    return f"unknown field; did you mean {' or '.join(close)}?" if close else "unknown field"


def _branches(node: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A JSON schema node's alternatives, references followed."""
    if "$ref" in node:
        return _branches(schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], schema)
    union = node.get("anyOf") or node.get("oneOf") or node.get("allOf")
    return [b for branch in union for b in _branches(branch, schema)] if union else [node]


def _children(node: dict[str, Any], part: Any, schema: dict[str, Any]) -> list[dict[str, Any]]:
    """What a pydantic error location's `part` leads to from `node` (a union's tag, the
    branch it names)."""
    found = []
    for branch in _branches(node, schema):
        properties = branch.get("properties", {})
        kind = properties.get("kind", {})
        if isinstance(part, str) and part in properties:
            found.append(properties[part])
        elif isinstance(part, int) and "items" in branch:
            found.append(branch["items"])
        elif isinstance(branch.get("additionalProperties"), dict) and isinstance(part, str):
            found.append(branch["additionalProperties"])
        elif part in (kind.get("const"), *kind.get("enum", ())):
            found.append(branch)
    return found


def _locate(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, str]:
    """Follow a pydantic error location through the YAML node tree."""
    node, path = root, ""
    for part in loc:
        child = _child(node, part)
        if child is None:
            continue  # a union tag or model name pydantic adds to the path
        node = child
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return node, path


def _child(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value if isinstance(value, yaml.Node) else None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None


def to_plain(pipeline: Pipeline) -> dict[str, Any]:
    """The spec as plain data, defaults omitted, in field order (a source's `kind` first)."""
    data = pipeline.model_dump(mode="json", exclude_defaults=True)
    for stream in data["streams"]:
        stream["source"] = {"kind": stream["source"].pop("kind"), **stream["source"]}
    return data


def dump_spec(pipeline: Pipeline) -> str:
    """The spec as YAML; the same spec always gives the same text."""
    return yaml.safe_dump(to_plain(pipeline), sort_keys=False, allow_unicode=True, width=100)


def spec_hash(pipeline: Pipeline) -> str:
    """A short stable hash of the spec's meaning (not its formatting): of what it sets, so
    a release that adds a field with a default leaves every hash, and every DAG, as it was."""
    canonical = json.dumps(to_plain(pipeline), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def project_specs(folder: Path) -> tuple[list[tuple[Path, Pipeline]], list[SpecError]]:
    """The valid specs in a folder (`*.yaml`, `*.yml`) with their files, and what is wrong
    with the others."""
    specs: list[tuple[Path, Pipeline]] = []
    problems: list[SpecError] = []
    paths = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES) if folder.is_dir() else []
    for path in paths:
        try:
            specs.append((path, load_spec(path)))
        except SpecError as exc:
            problems.append(exc)
    return specs, problems


def find_spec(named: str, folder: Path) -> tuple[Path, Pipeline]:
    """A spec and its file, by the file's path, or by its pipeline's name among the specs
    in `folder`.

    Raises:
        SpecError: No such file, an invalid one, or no spec of that pipeline in `folder`.
    """
    path = Path(named)
    if path.suffix in SUFFIXES or path.is_file():
        return path, load_spec(path)
    for candidate in (folder / f"{named}{suffix}" for suffix in SUFFIXES):
        if candidate.is_file():
            return candidate, load_spec(candidate)
    specs, _ = project_specs(folder)
    if found := [(file, spec) for file, spec in specs if spec.pipeline == named]:
        return found[0]
    known = ", ".join(sorted(spec.pipeline for _, spec in specs)) or "none"
    raise SpecError(
        f"unknown pipeline {named!r}: no spec of it in {folder}/ (pipelines there: {known})",
        hint="name a pipeline of that folder, or give its spec file's path",
    )
