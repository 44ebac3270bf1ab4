"""Where rows come from: files, globs and URLs the text names, and tables on connections."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from agent.planner.grammar import TABLE
from agent.planner.state import Parsed
from connectors import kinds
from connectors.kinds.kafka import KAFKA
from connectors.kinds.rest import REST
from connectors.kinds.sql import SQL
from connectors.profiling.resolve import is_database_url

FILE_KINDS = {
    suffix.removeprefix("."): kind.suffixes[suffix]
    for kind in kinds.kinds()
    for suffix in sorted(kind.named_by)
}
"""A word's file suffix -> the source kind it names (each kind's `named_by`)."""
_COMPRESSED = (".gz", ".bz2", ".zst", ".xz")
_TOKEN = re.compile(r"\"([^\"]+)\"|'([^']+)'|([^\s,;\"'()]+)")
_CONN = r"[a-z][a-z0-9_]{0,99}"
_SQL = re.compile(
    rf"\b(?:the\s+)?(?:table\s+(?P<t1>{TABLE})|(?P<t3>{TABLE})\s+table)\s+(?:from|in|on|of)\s+"
    rf"(?:the\s+)?(?:connection|database|db)\s+(?P<c1>{_CONN})\b|\b(?:the\s+)?"
    rf"(?:connection|database|db)\s+(?P<c2>{_CONN})(?:'s)?\s+table\s+(?P<t2>{TABLE})",
    re.IGNORECASE,
)
BARE = "bare_url_source"
"""The connection id of a bare URL the text names, until the pipeline has its name."""
_TOPIC = r"[A-Za-z0-9][A-Za-z0-9._-]{0,248}"
_AT = (
    r"\s+(?:from|in|on|of|at)\s+(?:the\s+)?(?:(?:connection|brokers?|cluster)\s+"
    rf"(?P<c>{_CONN})|(?P<c2>{_CONN})\s+(?:connection|brokers|cluster))\b"
)
"""Where topics are: "on connection events", "from the events connection"."""
_TOPIC_LIST = rf"{_TOPIC}(?:\s*,\s*{_TOPIC})*\s*,?\s+and\s+{_TOPIC}"
_KAFKA = [
    re.compile(
        rf"\bconsum(?:e|es|ed|ing)\s+(?:the\s+)?(?:(?:kafka\s+)?topics?\s+)?"
        rf"(?P<list>{_TOPIC_LIST}|{_TOPIC})(?:\s+(?:kafka\s+)?topics?)?{_AT}",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:the\s+)?(?:(?:kafka\s+)?topics\s+(?P<list>{_TOPIC_LIST})|"
        rf"(?P<list2>{_TOPIC_LIST})\s+(?:kafka\s+)?topics)(?:{_AT})?\b",
        re.IGNORECASE,
    ),
    re.compile(
        rf"\b(?:the\s+)?(?:(?:kafka\s+)?topic\s+(?P<t1>{_TOPIC})|(?P<t2>{_TOPIC})\s+(?:kafka\s+)?topic"
        # "the orders topic on ...", but not "copy topic payments": then the name follows
        rf"(?!\s+(?!(?:from|in|on|of|at|into|to|using|via|with|and)\b)[A-Za-z0-9]))(?:{_AT})?\b",
        re.IGNORECASE,
    ),
]
"""Topics: "consume orders from the events connection" (a topic by its verb), "the a and b
topics", "topics a, b and c", "the orders topic", "topic orders"."""
_ON_CONNECTION = re.compile(
    rf"\b(?:on|using|via|with|through|from|in)\s+(?:the\s+)?(?:connection\s+(?P<c>{_CONN})|"
    rf"(?P<c2>{_CONN})\s+connection)\b",
    re.IGNORECASE,
)
_NAMED_BEFORE = re.compile(
    r"(?:\bthe\s+)?(?:[\w.-]+\s+)?\b(?:feed|websocket|socket|stream|topic)\s+(?:at\s+)?$",
    re.IGNORECASE,
)
_TABLE_BEFORE = re.compile(
    rf"(?:\b(?:the\s+)?table\s+(?P<t1>{TABLE})|\b(?:the\s+)?(?P<t2>{TABLE})\s+table)\s+"
    r"(?:from|in|on|of|at)\s+(?:the\s+)?(?:database\s+)?$",
    re.IGNORECASE,
)
_TABLE_AFTER = re.compile(
    rf"^(?:'s)?\s*,?\s*(?:(?:the\s+)?table\s+(?P<t1>{TABLE})\b|(?:the\s+)?(?P<t2>{TABLE})\s+table\b)",
    re.IGNORECASE,
)
_USING = re.compile(r"\b(?:using|via|with|through)\s+(?:the\s+)?connection\s+(" + _CONN + r")\b")


def read_source(text: str, parsed: Parsed) -> None:
    """Every source the text names, in order, into `parsed.sources`; a question for a bad one."""
    found = [*_files_and_urls(text), *_sql_sources(text), *_topics(text)]
    found.sort(key=lambda item: item[0])
    for start, end, label, source in found:
        parsed.use((start, end))
        if isinstance(source, str):
            parsed.ask(source)
            continue
        parsed.sources.append((start, label, _with_hints(text, source, parsed)))
    if parsed.sources and (using := _USING.search(text)):
        parsed.use(using)


def source_args(source: dict[str, Any], label: str) -> dict[str, str]:
    """How the profile_source tool names a source: source, connection, table."""
    if "table" in source:
        return {"connection": source["connection"], "table": source["table"]}
    return {"source": label, **_connection(source)}


Found = tuple[int, int, str, "dict[str, Any] | str"]


def _files_and_urls(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _TOKEN.finditer(text):
        token = (match.group(1) or match.group(2) or match.group(3)).rstrip(".:!?")
        scheme = urlsplit(token).scheme.lower() if "://" in token else ""
        start, end = match.span()
        if is_database_url(token):
            found.append(_database(text, token, start, end))
        elif scheme in ("http", "https"):
            found.append((start, end, token, _rest(token, text)))
        elif (kind := kinds.kind_of_url(token)) is not None and kind.from_url is not None:
            if named := _NAMED_BEFORE.search(text, 0, start):  # "the trades feed wss://..."
                start = named.start()
            if (conn := _ON_CONNECTION.match(text, end + 1)) and text[end : end + 1] == " ":
                end = conn.end()  # "kafka://orders on connection events"
            found.append((start, end, token, _kind_url(kind, token, text)))
        elif file_kind := _file_kind(token):
            found.append(
                (start, end, token, {"kind": file_kind, "path": token, **_storage(token, text)})
            )
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


def _database(text: str, url: str, start: int, end: int) -> Found:
    """A table on a database URL ("the orders table from postgresql://..."): a connection of
    its own (saved with the pipeline, as `dagsmith init` does); a question without a table."""
    before = _TABLE_BEFORE.search(text, 0, start)
    after = _TABLE_AFTER.search(text[end:])
    if before is not None:
        table, start = before.group("t1") or before.group("t2"), before.start()
    elif after is not None:
        table, end = after.group("t1") or after.group("t2"), end + after.end()
    else:
        return start, end, _masked(url), _table_question(url)
    source = {"kind": SQL.name, "connection": BARE, "table": table, "url": url}
    return start, end, f"table {table}", source


def _table_question(url: str) -> str:
    return (
        f"Which table of {_masked(url)} should I read? Say 'the table T from <url>', or set "
        "AIRFLOW_CONN_<ID> to the URL and say 'table T on connection <id>'."
    )


def _rest(url: str, text: str) -> dict[str, Any]:
    """An endpoint on a named connection's host ("... using connection shop"), or on a
    connection of its own holding the URL's origin, as `dagsmith init` makes one."""
    using = _USING.search(text)
    parts = urlsplit(url)
    source: dict[str, Any] = {
        "kind": REST.name,
        "connection": using.group(1) if using else BARE,
        "endpoint": parts.path.strip("/"),
    }
    if using is None:
        source["url"] = url
    if parts.query:
        source["params"] = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    return source


def _kind_url(kind: kinds.SourceKind[Any], url: str, text: str) -> dict[str, Any] | str:
    """A source a URL of its kind's scheme names (`wss://host/trades`, `kafka://orders`) on
    the connection the text names; a feed's origin, else, is a connection of its own."""
    using, fields = _connection_in(_ON_CONNECTION.search(text)), kind.from_url
    assert fields is not None  # only kinds that read a URL are asked
    if using is None and not kind.origin_is_connection:
        return (
            f"Which connection does {url} need? Say '{url} using connection <id>', with "
            "AIRFLOW_CONN_<ID> set to it."
        )
    source = {"kind": kind.name, **fields(url, using or BARE)}
    return source if using else {**source, "url": url}


def _connection_in(match: re.Match[str] | None) -> str | None:
    """The connection id a match of `_ON_CONNECTION` or a topic's `_AT` names, if any."""
    return (match.group("c") or match.group("c2")) if match is not None else None


def _sql_sources(text: str) -> list[Found]:
    found: list[Found] = []
    for match in _SQL.finditer(text):
        table = match.group("t1") or match.group("t2") or match.group("t3")
        conn = match.group("c1") or match.group("c2")
        source = {"kind": SQL.name, "connection": conn, "table": table}
        found.append((*match.span(), f"table {table}", source))
    return found


def _topics(text: str) -> list[Found]:
    """Kafka topics ("the orders topic on connection events"); a question without brokers."""
    found: list[Found] = []
    for pattern in _KAFKA:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end, *_ in found):
                continue  # "consume the orders topic": read once, by the first pattern
            named = match.groupdict()
            words = next(named[g] for g in ("list", "list2", "t1", "t2") if named.get(g))
            topics = [t for t in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", words) if t]
            conn = _connection_in(match) or _connection_in(_ON_CONNECTION.search(text))
            if conn is None:
                found.append((*match.span(), topics[0], _brokers_question(topics)))
                continue
            source = {"kind": KAFKA.name, "connection": conn, "topics": topics}
            found.append((*match.span(), f"kafka://{','.join(topics)}", source))
    return found


def _brokers_question(topics: list[str]) -> str:
    named = f"topic {topics[0]}" if len(topics) == 1 else f"topics {', '.join(topics)}"
    return (
        f"Which connection holds the Kafka brokers of {named}? Say 'the {topics[0]} "
        "topic on connection <id>', with AIRFLOW_CONN_<ID>=kafka://broker:9092."
    )


def _with_hints(text: str, source: dict[str, Any], parsed: Parsed) -> dict[str, Any]:
    """The source with the options its kind reads from the words (an XML record path)."""
    hints = kinds.kind_named(source["kind"]).hints(text)
    for span in hints.spans:
        parsed.use(span)
    if hints.question:
        parsed.ask(hints.question)
    return {**source, **hints.options}
