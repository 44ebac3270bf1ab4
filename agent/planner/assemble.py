"""From what the readers found to a validated spec: streams paired, an earlier plan changed."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from agent.planner.state import Parsed
from connectors.profiling.draft import fitted
from connectors.spec import Pipeline
from connectors.spec.io import to_plain

_NO_SOURCE = (
    "Which source should I read? Name a file (data/orders.csv, s3://bucket/key.parquet), "
    "an http(s) URL, or 'table T on connection C'."
)
_NO_TABLE = "Which table should the rows go into? Say 'into TABLE' once."
_PER_STREAM = (
    "This request loads several streams: which stream should the cleaning rules, filters or "
    "keys apply to? Describe each stream in its own request, or one at a time in a chat."
)
Result = tuple[Pipeline | None, list[str]]


def assemble(text: str, parsed: Parsed, base: Pipeline | None) -> Result:
    """The spec the parts make, or the questions still open."""
    earlier = to_plain(base) if base is not None and len(base.streams) == 1 else None
    sources = [source for _, _, source in parsed.sources]
    tables = [table for _, table in parsed.tables]
    if earlier is not None:
        sources = sources or [earlier["streams"][0]["source"]]
        tables = tables or [earlier["streams"][0]["load"]["table"]]
    _pairing(sources, tables, parsed)
    if len(sources) > 1 and (
        parsed.transform or parsed.filters or parsed.incremental or parsed.proposed
    ):
        parsed.ask(_PER_STREAM)
    dedupe = parsed.transform.get("dedupe")
    if dedupe is not None and not dedupe["keys"]:
        dedupe["keys"] = list(parsed.load.get("keys") or _earlier_keys(earlier))
        if not dedupe["keys"]:
            parsed.ask("Dedupe on which columns? Say 'dedupe on order_id'.")
    if parsed.questions:
        return None, parsed.questions
    document = _document(text, parsed, earlier, list(zip(sources, tables, strict=True)))
    try:
        return Pipeline.model_validate(document), []
    except ValidationError as exc:
        return None, [_question(error) for error in exc.errors(include_url=False)]


def _pairing(sources: list[Any], tables: list[str], parsed: Parsed) -> None:
    if not sources and not parsed.questions:
        parsed.ask(_NO_SOURCE)
    if not tables:
        parsed.ask(_NO_TABLE)
    if not sources or not tables or len(sources) == len(tables):
        return
    if len(tables) > 1:
        parsed.ask(f"Which one table should the rows go into: {', '.join(sorted(tables))}?")
    else:
        shown = ", ".join(label for _, label, _ in parsed.sources)
        parsed.ask(f"I found several sources ({shown}): which one should I read?")


def _earlier_keys(earlier: dict[str, Any] | None) -> list[str]:
    return list(earlier["streams"][0]["load"].get("keys", [])) if earlier else []


def _document(
    text: str, parsed: Parsed, earlier: dict[str, Any] | None, pairs: list[tuple[Any, str]]
) -> dict[str, Any]:
    document = dict(earlier or {})
    old_stream = document.pop("streams", [{}])[0]
    names = [table.rsplit(".", 1)[-1].lower() for _, table in pairs]
    pipeline_name = parsed.name or (old_stream and document["pipeline"]) or "_".join(names)[:63]
    streams = [
        _stream(parsed, old_stream, source, table, parsed.name or name if len(pairs) == 1 else name)
        for (source, table), name in zip(pairs, names, strict=True)
    ]
    if old_stream and not parsed.name:
        streams[0]["name"] = old_stream["name"]
    said = document.pop("description", "")
    return {
        **document,
        **parsed.pipeline,
        "pipeline": pipeline_name.rstrip("_"),
        "description": (f"{said.rstrip('. ')}. {text}" if said else text)[:2000],
        "streams": streams,
    }


def _stream(
    parsed: Parsed, old: dict[str, Any], source: Any, table: str, name: str
) -> dict[str, Any]:
    load = {**old.get("load", {}), "table": table, **parsed.load}
    if load.get("mode", "append") != "upsert":
        load.pop("keys", None)
    stream: dict[str, Any] = {**old, "name": name, "source": source, "load": load}
    transform = _merged(old.get("transform", {}), parsed.transform)
    if parsed.filters:
        old_filter = transform.get("filter")
        transform["filter"] = (
            {"all": [old_filter, *parsed.filters]} if old_filter else parsed.filters[0]
        )
    incremental = {**old.get("incremental", {}), **parsed.incremental}
    if parsed.proposed:
        # What the user named explicitly stays as said; the proposals fit the keys, the
        # required columns and the cursor.
        keys = [*load.get("keys", []), *(transform.get("dedupe") or {}).get("keys", [])]
        cursor = incremental.get("cursor")
        proposed = fitted(parsed.proposed, keys, cursor, transform.get("required", []))
        transform["protect"] = {**proposed, **transform.get("protect", {})}
    if transform:
        stream["transform"] = transform
    if parsed.incremental:
        stream["incremental"] = incremental
    return stream


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """An earlier transform with a change's rules added: mappings and lists grow, the rest
    (select, dedupe, max_rejects) is replaced."""
    merged = dict(old)
    for name, value in new.items():
        if isinstance(value, dict) and name != "dedupe":
            merged[name] = {**old.get(name, {}), **value}
        elif isinstance(value, list) and name != "select":
            merged[name] = list(dict.fromkeys([*old.get(name, []), *value]))
        else:
            merged[name] = value
    return merged


def _question(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"] if not str(part).endswith("Source"))
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where or 'the pipeline'}: {message}. How should I change it?"
