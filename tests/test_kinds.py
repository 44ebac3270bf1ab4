"""A source kind is one registered object: the spec, the readers, profiling, the guard, the
labels and the planner's file suffixes all come from `connectors.kinds`, and each refuses a
kind the registry does not hold."""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from agent.dags.describe import source_label
from agent.orchestrator.guardrails import Guard, GuardError
from agent.planner.sources import FILE_KINDS
from connectors import kinds, sources
from connectors.errors import SourceError, SpecError
from connectors.kinds.base import Reach, SourceKind, imported
from connectors.profiling import sample
from connectors.profiling.resolve import context
from connectors.spec import Stream, parse_spec
from connectors.spec.base import SourceModel

EXAMPLES: dict[str, dict[str, Any]] = {
    "csv": {"path": "data/a.csv"},
    "tsv": {"path": "data/a.tsv"},
    "json": {"path": "data/a.json"},
    "jsonl": {"path": "data/a.jsonl"},
    "excel": {"path": "data/a.xlsx"},
    "xml": {"path": "data/a.xml", "record_path": "rows/row"},
    "parquet": {"path": "data/a.parquet"},
    "rest": {"connection": "shop", "endpoint": "orders"},
    "sql": {"connection": "shop", "table": "orders"},
    "kafka": {"connection": "events", "topics": ["orders"]},
    "websocket": {"connection": "feed", "endpoint": "trades"},
}

ROOT = Path(__file__).resolve().parents[1]


class FtpSource(SourceModel):
    """A kind no registry holds."""

    kind: Literal["ftp"]
    host: str


def _spec_union_models() -> tuple[type[SourceModel], ...]:
    return typing.get_args(Stream.model_fields["source"].annotation)


def test_the_spec_union_holds_exactly_the_registered_kinds() -> None:
    union = [
        name
        for model in _spec_union_models()
        for name in typing.get_args(model.model_fields["kind"].annotation)
    ]
    assert union == kinds.names() == list(EXAMPLES)


@pytest.mark.parametrize("kind", kinds.BUILTIN, ids=lambda kind: kind.name)
def test_every_kind_has_a_model_a_reader_a_sampler_a_label_and_a_reach(
    kind: SourceKind[Any],
) -> None:
    assert issubclass(kind.model, SourceModel)
    assert kind.name in kind.names
    assert callable(imported(kind.reader_path)) and callable(imported(kind.sampler_path))
    assert kind.detect_path is None or callable(imported(kind.detect_path))
    assert kind.named_by <= set(kind.suffixes)
    assert set(kind.suffixes.values()) <= set(kind.names)
    for name in kind.names:
        spec = kind.model.model_validate({"kind": name, **EXAMPLES[name]})
        assert kinds.kind_of(spec) is kind
        assert source_label(spec)
        assert isinstance(kind.reaches(spec), Reach)


def test_the_planner_and_format_detection_take_their_suffixes_from_the_kinds() -> None:
    assert FILE_KINDS == {
        "csv": "csv",
        "tsv": "tsv",
        "json": "json",
        "jsonl": "jsonl",
        "ndjson": "jsonl",
        "xlsx": "excel",
        "xml": "xml",
        "parquet": "parquet",
    }
    assert kinds.suffixes()[".tab"] == "tsv" and kinds.suffixes()[".pq"] == "parquet"


def _owned_by_a_kind() -> set[str]:
    """The modules a kind names (its model, reader, sampler, detection) and connectors/kinds/."""
    paths = [
        path
        for kind in kinds.BUILTIN
        for path in (kind.model_path, kind.reader_path, kind.sampler_path, kind.detect_path)
        if path
    ]
    return {path.partition(":")[0].replace(".", "/") + ".py" for path in paths}


def _names_a_kind(node: ast.expr) -> bool:
    values = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return any(isinstance(v, ast.Constant) and v.value in kinds.names() for v in values)


def _kind_dispatches(path: Path, source: str) -> list[str]:
    """Each comparison of a kind with a kind's name (`source["kind"] == "rest"`) in the code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        text = ast.get_source_segment(source, node) or ""
        if "kind" in text and any(_names_a_kind(side) for side in sides):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text}")
    return found


def test_no_code_outside_a_kinds_own_modules_asks_which_kind_a_source_is() -> None:
    owned = _owned_by_a_kind()
    found = [
        dispatch
        for package in ("agent", "connectors")
        for path in sorted((ROOT / package).rglob("*.py"))
        if not path.relative_to(ROOT).as_posix().startswith("connectors/kinds/")
        and path.relative_to(ROOT).as_posix() not in owned
        for dispatch in _kind_dispatches(path, path.read_text())
    ]
    assert found == []


def test_the_dispatch_check_sees_a_dispatch() -> None:
    code = 'if source.get("kind") in ("csv", "tsv"):\n    pass\nok = ctype.name == "json"\n'
    found = _kind_dispatches(ROOT / "x.py", code)
    assert found == ['x.py:1: source.get("kind") in ("csv", "tsv")']


def test_a_kinds_request_hints_come_from_the_kind() -> None:
    xml = kinds.kind_named("xml").hints("load orders.xml with records at shop/order into t")
    assert dict(xml.options) == {"record_path": "shop/order"} and xml.question is None
    assert kinds.kind_named("xml").hints("load orders.xml into t").question
    sheet = kinds.kind_named("excel").hints('load a.xlsx from the sheet "Q1 sales" into t')
    assert dict(sheet.options) == {"sheet": "Q1 sales"}
    assert kinds.kind_named("csv").hints("load a.csv from the sheet Q1 into t").options == {}
    stream = kinds.kind_named("kafka").hints("load it for 5 minutes, at most 900 messages")
    assert dict(stream.options) == {"max_seconds": 300, "max_messages": 900}
    assert kinds.kind_named("websocket").hints("for 45 seconds").options == {"max_seconds": 45}


def test_every_dispatch_refuses_a_kind_the_registry_does_not_hold(tmp_path: Path) -> None:
    ftp = FtpSource(kind="ftp", host="files.example.com")
    guard = Guard(frozenset(), frozenset(), frozenset({"ftp"}), tmp_path, "ftp files.example.com")
    with pytest.raises(GuardError, match="unknown source kind 'ftp'"):
        guard.check_source(ftp)
    with pytest.raises(SpecError, match="known kinds: csv, excel"):
        source_label(ftp)
    ctx = context(tmp_path)
    with pytest.raises(SourceError, match="unknown source kind 'ftp'"):
        sources.read(ftp, ctx)
    with pytest.raises(SpecError, match="unknown source kind 'ftp'"):
        sample.take(ftp, ctx)


def test_a_lookalike_of_a_registered_kind_is_refused(tmp_path: Path) -> None:
    class Lookalike(SourceModel):
        kind: Literal["csv"]
        path: str

    guard = Guard(frozenset({"a.csv"}), frozenset(), frozenset(), tmp_path, "a.csv")
    with pytest.raises(GuardError, match="not a csv source spec"):
        guard.check_source(Lookalike(kind="csv", path="a.csv"))


def test_an_unknown_kind_in_a_spec_lists_the_known_ones() -> None:
    text = "pipeline: p\nstreams:\n  - name: s\n    source: {kind: ftp, path: x}\n"
    text += "    load: {table: t}\n"
    with pytest.raises(
        SpecError, match=r"streams\[0\]\.source: unknown kind; known kinds: .*'sql'"
    ):
        parse_spec(text)


class _Point:
    """An entry point as `importlib.metadata` gives one."""

    def __init__(self, value: object) -> None:
        self.name, self.value, self._value = "clash", "plugin:KIND", value

    def load(self) -> object:
        return self._value


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Entry points the registry finds, reloaded with each test's list."""
    found: list[object] = []
    monkeypatch.setattr(kinds, "entry_points", lambda group: [_Point(v) for v in found])
    kinds.kinds.cache_clear()
    yield found
    monkeypatch.undo()
    kinds.kinds.cache_clear()


def test_a_plugin_kind_named_like_a_builtin_one_is_an_error(plugins: list[object]) -> None:
    clash = SourceKind[ClashSource](
        name="csv",
        model_path="tests.test_kinds:ClashSource",
        reader_path="connectors.sources.csv:read",
        label=str,
        reaches=lambda spec: Reach(),
    )
    plugins.append(clash)
    with pytest.raises(SpecError, match="source kind 'csv' is declared twice"):
        kinds.kinds()


def test_a_plugin_entry_point_must_name_a_source_kind(plugins: list[object]) -> None:
    plugins.append("not a kind")
    with pytest.raises(SpecError, match="is not a SourceKind"):
        kinds.kinds()


class ClashSource(SourceModel):
    """A plugin's model whose kind a built-in one already has."""

    kind: Literal["csv"]
