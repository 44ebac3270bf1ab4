"""Where rows come from and where they go: sources, the target table and connection, mode."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from agent.planner.grammar import STOP_WORDS, TABLE, WEEKDAYS, take_list

FILE_KINDS = {
    "csv": "csv",
    "tsv": "tsv",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "xlsx": "excel",
    "xml": "xml",
    "parquet": "parquet",
}
_COMPRESSED = (".gz", ".bz2", ".zst", ".xz")
DB_SCHEMES = ("postgres", "postgresql", "mysql", "mariadb", "sqlite", "mssql", "oracle")
_TOKEN = re.compile(r"\"([^\"]+)\"|'([^']+)'|([^\s,;\"'()]+)")
_CONN = r"[a-z][a-z0-9_]{0,99}"
_NOT_CONN = (
    STOP_WORDS
    | {f"{day}s" for day in WEEKDAYS}
    | set(WEEKDAYS)
    | {"weekday", "demand", "database", "db", "connection"}
)
_SQL = re.compile(
    rf"\btable\s+(?P<t1>{TABLE})\s+(?:from|in|on|of)\s+(?:the\s+)?(?:connection|database|db)\s+"
    rf"(?P<c1>{_CONN})\b|\b(?:connection|database|db)\s+(?P<c2>{_CONN})(?:'s)?\s+table\s+"
    rf"(?P<t2>{TABLE})",
    re.IGNORECASE,
)
_INTO = re.compile(
    rf"\binto\s+(?:the\s+)?(?:table\s+)?(?P<table>{TABLE})(?:\s+table)?(?:\s+(?:on|in)\s+"
    r"(?:the\s+)?(?:(?:connection|database|db)\s+)?(?P<conn>[a-z][a-z0-9_]*)\b)?",
    re.IGNORECASE,
)
_TARGET = re.compile(r"\btarget\s+(?:connection\s+)?(?P<conn>[a-z][a-z0-9_]*)\b", re.IGNORECASE)
_USING = re.compile(r"\b(?:using|via|with|through)\s+(?:the\s+)?connection\s+(" + _CONN + r")\b")
_XML_RECORDS = re.compile(r"\brecords?\s+(?:at|path|under)\s+([\w:/-]+)", re.IGNORECASE)
_SHEET = re.compile(r"\bsheet\s+(?:\"([^\"]+)\"|(\w+))", re.IGNORECASE)
_NAME = re.compile(r"\b(?:call\s+it|name\s+it|named)\s+([a-z][a-z0-9_]{0,62})\b", re.IGNORECASE)
_MODES = {
    "append": r"\bappend(?:s|ing)?\b",
    "replace": r"\b(?:replac(?:e|es|ing)|overwrit(?:e|es|ing)|full\s+refresh)\b",
    "upsert": r"\b(?:upsert(?:s|ing)?|merg(?:e|es|ing))\b",
}
_KEYS = re.compile(
    r"\b(?:upsert(?:s|ing)?|merg(?:e|es|ing))\b(?:\s+(?:it|them|rows))?\s+"
    r"(?:on|by|using|keyed\s+(?:on|by))\s+(?:the\s+)?(?:keys?\s+|columns?\s+)?",
    re.IGNORECASE,
)


@dataclass
class Parsed:
    """What the planner read so far: spec fragments, and the questions to ask."""

    stream: dict[str, Any] = field(default_factory=dict)
    pipeline: dict[str, Any] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    source_args: dict[str, str] = field(default_factory=dict)
    """How the profile_source tool names the source (source, connection, table)."""
    refining: bool = False
    """The text changes an earlier plan: what it does not mention stays as it was."""


def read_source(text: str, parsed: Parsed) -> None:
    """The one source the text names, into `parsed.stream['source']`, or a question."""
    found = [*_files_and_urls(text), *_sql_sources(text)]
    if not found and parsed.refining:
        return
    if not found:
        parsed.questions.append(
            "Which source should I read? Name a file (data/orders.csv, s3://bucket/key.parquet), "
            "an http(s) URL with 'using connection ID', or 'table T on connection C'."
        )
    elif len(found) > 1:
        shown = ", ".join(label for label, _ in found)
        parsed.questions.append(f"I found several sources ({shown}): which one should I read?")
    else:
        label, source = found[0]
        if isinstance(source, str):
            parsed.questions.append(source)
            return
        parsed.stream["source"] = _format_options(text, source, parsed)
        if source["kind"] == "sql":
            parsed.source_args = {"connection": source["connection"], "table": source["table"]}
        else:
            parsed.source_args = {"source": label, **_connection(source)}


def _files_and_urls(text: str) -> list[tuple[str, dict[str, Any] | str]]:
    found: list[tuple[str, dict[str, Any] | str]] = []
    for match in _TOKEN.finditer(text):
        token = (match.group(1) or match.group(2) or match.group(3)).rstrip(".:!?")
        scheme = urlsplit(token).scheme.lower() if "://" in token else ""
        if scheme.split("+")[0] in DB_SCHEMES:
            found.append((_masked(token), _database_question(token)))
        elif scheme in ("http", "https"):
            found.append((token, _rest(token, text)))
        elif kind := _file_kind(token):
            found.append((token, {"kind": kind, "path": token, **_storage(token, text)}))
    return found


def _storage(path: str, text: str) -> dict[str, str]:
    """The connection holding a remote file's storage credentials, when the text names one."""
    using = _USING.search(text) if "://" in path else None
    return {"connection": using.group(1)} if using else {}


def _connection(source: dict[str, Any]) -> dict[str, str]:
    return {"connection": source["connection"]} if "connection" in source else {}


def _file_kind(token: str) -> str | None:
    name = token.lower()
    for suffix in _COMPRESSED:
        name = name.removesuffix(suffix)
    extension = name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else ""
    return FILE_KINDS.get(extension)


def _masked(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{parts.path}" if parts.password or parts.username else url


def _database_question(url: str) -> str:
    scheme = urlsplit(url).scheme.split("+")[0]
    return (
        f"A spec names databases by connection id, never by URL: set AIRFLOW_CONN_<ID> to the "
        f"{scheme} URL (in the environment or .env), then say 'table T on connection <id>'."
    )


def _rest(url: str, text: str) -> dict[str, Any] | str:
    using = _USING.search(text)
    if using is None:
        return (
            f"Which connection holds the base URL and credentials of {urlsplit(url).netloc}? "
            "Say 'using connection ID' (AIRFLOW_CONN_ID=https://host)."
        )
    parts = urlsplit(url)
    source: dict[str, Any] = {
        "kind": "rest",
        "connection": using.group(1),
        "endpoint": parts.path.strip("/"),
    }
    if parts.query:
        source["params"] = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return source


def _sql_sources(text: str) -> list[tuple[str, dict[str, Any] | str]]:
    found: list[tuple[str, dict[str, Any] | str]] = []
    for match in _SQL.finditer(text):
        table, conn = match.group("t1") or match.group("t2"), match.group("c1") or match.group("c2")
        found.append((f"table {table}", {"kind": "sql", "connection": conn, "table": table}))
    return found


def _format_options(text: str, source: dict[str, Any], parsed: Parsed) -> dict[str, Any]:
    if source["kind"] == "xml":
        records = _XML_RECORDS.search(text)
        if records is None:
            parsed.questions.append(
                "Which element is one record of the XML file? Say 'records at orders/order'."
            )
        else:
            source["record_path"] = records.group(1)
    if source["kind"] == "excel" and (sheet := _SHEET.search(text)):
        source["sheet"] = sheet.group(1) or sheet.group(2)
    return source


def read_target(text: str, parsed: Parsed) -> None:
    """The target table (`into T`), its connection, and the pipeline name."""
    tables = {m.group("table") for m in _INTO.finditer(text)}
    conns = {c for m in _INTO.finditer(text) if (c := m.group("conn")) and c not in _NOT_CONN}
    conns |= {m.group("conn") for m in _TARGET.finditer(text)}
    if len(tables) > 1 or not (tables or parsed.refining):
        parsed.questions.append(
            "Which table should the rows go into? Say 'into TABLE' once."
            if not tables
            else f"Which one table should the rows go into: {', '.join(sorted(tables))}?"
        )
        return
    if len(conns) > 1:
        parsed.questions.append(f"Which target connection: {', '.join(sorted(conns))}?")
    load = parsed.stream.setdefault("load", {})
    if tables:
        load["table"] = tables.pop()
    name_match = _NAME.search(text)
    if name_match or not parsed.refining:  # a change of table keeps the pipeline's name
        name = name_match.group(1) if name_match else load["table"].rsplit(".", 1)[-1]
        parsed.stream["name"] = parsed.pipeline["pipeline"] = name.lower()
    if conns or not parsed.refining:
        parsed.pipeline["target"] = conns.pop() if len(conns) == 1 else None


def read_mode(text: str, parsed: Parsed) -> None:
    """append (the default), replace, or upsert on the keys the text names."""
    modes = [mode for mode, pattern in _MODES.items() if re.search(pattern, text, re.IGNORECASE)]
    if len(modes) > 1:
        parsed.questions.append(f"Which write mode: {' or '.join(modes)}?")
        return
    if not modes and parsed.refining:
        return
    load = parsed.stream.setdefault("load", {})
    load["mode"] = modes[0] if modes else "append"
    if load["mode"] != "upsert":
        load.pop("keys", None)
        return
    keys = next((take_list(text[m.end() :])[0] for m in _KEYS.finditer(text)), [])
    if not keys:
        parsed.questions.append(
            "Which columns identify a row for the upsert? Say 'upsert on order_id'."
        )
    load["keys"] = keys
