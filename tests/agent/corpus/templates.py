"""The corpus's templates: how people name each part of a pipeline, and what it means.

Each template takes a source profile (and a random generator) and returns a clause and the
spec fields it sets; ASKS return a request and a word its question must hold.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

Fields = dict[str, Any]
Clause = Callable[[dict[str, Any], random.Random], tuple[str, Fields]]


def _col(name: str, kind: str, *values: str) -> dict[str, Any]:
    return {"name": name, "type": kind, "values": list(values)}


PROFILES: dict[str, dict[str, Any]] = {
    "orders": {
        "file": "data/orders.csv",
        "tables": ["orders", "analytics.orders", "sales.orders_clean", "raw.orders"],
        "key": "order_id",
        "number": "amount",
        "category": ("status", ["paid", "shipped", "pending", "cancelled"], "orders"),
        "columns": [
            _col("order_id", "bigint"),
            _col("customer_id", "bigint"),
            _col("amount", "double"),
            _col("status", "string", "paid", "shipped", "pending", "cancelled"),
            _col("email", "string"),
            _col("updated_at", "timestamp"),
        ],
    },
    "customers": {
        "file": "exports/customers.json",
        "tables": ["crm.people", "customers", "crm.contacts"],
        "key": "id",
        "number": "age",
        "category": ("tier", ["gold", "silver", "bronze"], "customers"),
        "columns": [
            _col("id", "bigint"),
            _col("name", "string"),
            _col("email", "string"),
            _col("country", "string", "NL", "DE", "BE"),
            _col("age", "bigint"),
            _col("tier", "string", "gold", "silver", "bronze"),
        ],
    },
    "events": {
        "file": "logs/events.jsonl",
        "tables": ["raw.clicks", "events", "web.events_raw"],
        "key": "event_id",
        "number": "duration_ms",
        "category": ("kind", ["click", "view", "purchase"], "events"),
        "columns": [
            _col("event_id", "bigint"),
            _col("user_id", "bigint"),
            _col("kind", "string", "click", "view", "purchase"),
            _col("duration_ms", "bigint"),
            _col("page", "string", "home", "cart"),
            _col("referrer", "string"),
            _col("at", "timestamp"),
        ],
    },
}


def _target(template: str) -> Callable[[str, str], tuple[str, Fields]]:
    return lambda source, table: (template.format(s=source, t=table), {})


TARGETS = [
    _target("load {s} into {t}"),
    _target("Load {s} into the table {t}"),
    _target("put {s} into table {t}"),
    _target("copy {s} into {t}"),
    _target("ingest {s} into the {t} table"),
    _target("take {s} and load it into {t}"),
    _target("into {t}, load {s}"),
    _target("I want to load {s} into a table called {t}"),
    _target("bring {s} into {t}"),
    _target("import {s} to table {t}"),
]

_SCHEDULES = [
    ("hourly", "@hourly"), ("every hour", "@hourly"), ("every 15 minutes", "*/15 * * * *"),
    ("every 2 hours", "0 */2 * * *"), ("daily", "@daily"), ("every day at 6am", "0 6 * * *"),
    ("daily at 18:30", "30 18 * * *"), ("every morning at 7", "0 7 * * *"),
    ("at 7:45 pm on weekdays", "45 19 * * 1-5"), ("every weekday at 8", "0 8 * * 1-5"),
    ("every Monday at 9am", "0 9 * * 1"), ("on Mondays and Thursdays at 6:15", "15 6 * * 1,4"),
    ("weekly", "@weekly"), ("monthly", "@monthly"), ("twice a day", "0 0,12 * * *"),
    ("every day at midnight", "0 0 * * *"), ("every day at noon", "0 12 * * *"),
    ("at 15 minutes past the hour", "15 * * * *"), ("on cron '5 4 * * 0'", "5 4 * * 0"),
    ("manually", None), ("on demand", None), ("every night at 1am", "0 1 * * *"),
    ("each evening at 7", "0 19 * * *"), ("every Sunday at 3am", "0 3 * * 0"),
    ("every 5 minutes", "*/5 * * * *"), ("at 6am every day", "0 6 * * *"),
]  # fmt: skip


def _schedule(said: str, cron: str | None) -> Clause:
    return lambda p, r: (said, {"schedule": cron})


SCHEDULES: list[Clause] = [_schedule(said, cron) for said, cron in _SCHEDULES]
MODES: list[Clause] = [
    lambda p, r: ("append", {"mode": "append"}),
    lambda p, r: ("add the new rows", {"mode": "append"}),
    lambda p, r: ("overwrite it", {"mode": "replace"}),
    lambda p, r: ("full refresh", {"mode": "replace"}),
    lambda p, r: ("truncate and load", {"mode": "replace"}),
    lambda p, r: ("replace the table each time", {"mode": "replace"}),
    lambda p, r: (f"upsert on {p['key']}", {"mode": "upsert", "keys": [p["key"]]}),
    lambda p, r: (f"merge on {p['key']}", {"mode": "upsert", "keys": [p["key"]]}),
    lambda p, r: (f"keyed on {p['key']}", {"mode": "upsert", "keys": [p["key"]]}),
    lambda p, r: (f"{p['key']} is the primary key", {"mode": "upsert", "keys": [p["key"]]}),
    lambda p, r: (f"sync it by {p['key']}", {"mode": "upsert", "keys": [p["key"]]}),
    lambda p, r: (f"unique on {p['key']}", {"mode": "upsert", "keys": [p["key"]]}),
]


def _text_column(p: dict[str, Any]) -> str:
    return str(next(c["name"] for c in p["columns"] if c["type"] == "string" and not c["values"]))


CLEANING: list[Clause] = [
    lambda p, r: (f"drop rows without {_text_column(p)}", {"required": [_text_column(p)]}),
    lambda p, r: (f"skip rows missing {_text_column(p)}", {"required": [_text_column(p)]}),
    lambda p, r: (f"{_text_column(p)} cannot be empty", {"required": [_text_column(p)]}),
    lambda p, r: (f"{_text_column(p)} is required", {"required": [_text_column(p)]}),
    lambda p, r: (f"one row per {p['key']}", {"dedupe": {"keys": [p["key"]]}}),
    lambda p, r: (f"no duplicate {p['key']}", {"dedupe": {"keys": [p["key"]]}}),
    lambda p, r: (f"dedupe on {p['key']}", {"dedupe": {"keys": [p["key"]]}}),
    lambda p, r: (
        f"remove duplicate {p['key']} rows keeping the first",
        {"dedupe": {"keys": [p["key"]], "keep": "first"}},
    ),
    lambda p, r: (f"treat a missing {p['number']} as 0", {"fill": {p["number"]: 0}}),
    lambda p, r: (f"default {p['number']} to 0", {"fill": {p["number"]: 0}}),
    lambda p, r: (f"fill {p['number']} with 0", {"fill": {p["number"]: 0}}),
    lambda p, r: (f"rename {p['key']} to ref", {"rename": {p["key"]: "ref"}}),
    lambda p, r: (f"{p['number']} should be called total", {"rename": {p["number"]: "total"}}),
    lambda p, r: (f"call the {p['number']} column total", {"rename": {p["number"]: "total"}}),
    lambda p, r: (
        f"keep only the columns {p['key']} and {p['number']}",
        {"select": [p["key"], p["number"]]},
    ),
    lambda p, r: (
        f"only the {p['key']} and {p['number']} columns",
        {"select": [p["key"], p["number"]]},
    ),
    lambda p, r: (
        f"keep just {p['key']}, {p['number']} and {p['category'][0]}",
        {"select": [p["key"], p["number"], p["category"][0]]},
    ),
]


def _cmp(phrase: str, op: str) -> Clause:
    def clause(p: dict[str, Any], r: random.Random) -> tuple[str, Fields]:
        n = r.choice([5, 20, 50, 100])
        return phrase.format(c=p["number"], n=n), {
            "filter": {"column": p["number"], "op": op, "value": n}
        }

    return clause


def _value(phrase: str, op: str) -> Clause:
    def clause(p: dict[str, Any], r: random.Random) -> tuple[str, Fields]:
        column, values, noun = p["category"]
        v = r.choice(values)
        filt = {"column": column, "op": op, "value": v}
        return phrase.format(c=column, v=v, noun=noun), {"filter": filt}

    return clause


FILTERS: list[Clause] = [
    _cmp("where {c} > {n}", ">"),
    _cmp("only rows where {c} is more than {n}", ">"),
    _cmp("where {c} is at least {n}", ">="),
    _cmp("keeping only rows whose {c} is above {n}", ">"),
    _cmp("where {c} is below {n}", "<"),
    _cmp("where {c} <= {n}", "<="),
    _value("where {c} is {v}", "="),
    _value("only the {v} {noun}", "="),
    _value("where {c} is not {v}", "!="),
    _value("leaving out {v} {noun}", "!="),
    _value("for {c} {v} only", "="),
    lambda p, r: (
        f"where {p['number']} between 5 and 10",
        {"filter": {"column": p["number"], "op": "between", "value": [5, 10]}},
    ),
    lambda p, r: (
        f"where {p['category'][0]} in ({p['category'][1][0]}, {p['category'][1][1]})",
        {"filter": {"column": p["category"][0], "op": "in", "value": p["category"][1][:2]}},
    ),
    lambda p, r: (
        f"where {_text_column(p)} is not null",
        {"filter": {"column": _text_column(p), "op": "is_not_null"}},
    ),
]
RETRIES: list[Clause] = [
    lambda p, r: ("retry 3 times", {"retries": 3}),
    lambda p, r: ("retry twice if it fails", {"retries": 2}),
    lambda p, r: ("no retries", {"retries": 0}),
    lambda p, r: ("with 5 retries", {"retries": 5}),
]
ALERTS: list[Clause] = [
    lambda p, r: ("email ops@example.com on failure", {"alerts": ["ops@example.com"]}),
    lambda p, r: (
        "send an email to data@example.org if it fails",
        {"alerts": ["data@example.org"]},
    ),
    lambda p, r: ("alert oncall@example.net on failure", {"alerts": ["oncall@example.net"]}),
]


def _two(template: str) -> Callable[[random.Random], tuple[str, list[str], Fields]]:
    def make(r: random.Random) -> tuple[str, list[str], Fields]:
        schedule, cron = r.choice(_SCHEDULES[:12])
        text = template.format(a="data/orders.csv", b="logs/events.jsonl", s=schedule)
        tables = ["raw.orders", "raw.events"]
        return text, ["data/orders.csv", "logs/events.jsonl"], {
            "streams": 2, "tables": tables, "schedule": cron, "retries": 3}  # fmt: skip

    return make


TWO_STREAMS = [
    _two("{s}, load {a} into raw.orders and {b} into raw.events"),
    _two("load {a} and {b} into raw.orders and raw.events {s}"),
    _two("{s} copy {a} to raw.orders and {b} to raw.events"),
]
ASKS: list[Callable[[dict[str, Any], random.Random], tuple[str, str]]] = [
    lambda p, r: (f"load {p['file']} every day", "table"),
    lambda p, r: (f"load {p['file']} somewhere sensible", "table"),
    lambda p, r: (f"load the latest export into {p['tables'][0]}", "source"),
    lambda p, r: (f"upsert {p['file']} into {p['tables'][0]}", "identify"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} every 30 seconds", "schedule"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} every 90 minutes", "schedule"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} and frobnicate the totals", "place"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]}, drop rows without colour", "column"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]}, only the purple ones", "place"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]}, append and overwrite", "mode"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} hourly and weekly", "run"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} every morning", "schedule"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} and {p['tables'][1]}", "table"),
    lambda p, r: (f"load {p['file']} into {p['tables'][0]} where {p['number']} is big", "number"),
]
TYPO_WORDS = ["load", "into", "every", "daily", "where", "only", "rows", "without", "rename",
              "retry", "append", "overwrite", "merge", "hourly", "weekly", "monthly", "minutes",
              "duplicate", "missing", "table", "columns", "default"]  # fmt: skip

_DAY_FIRST = {"type": "date", "format": "%d/%m/%Y"}
_MONTH_FIRST = {"type": "date", "format": "%m/%d/%Y"}
_COMMA = {"type": "float", "decimal": ","}
_POINT = {"type": "integer", "thousands": ","}
FORMAT_PROFILE: dict[str, Any] = {
    "file": "data/payments.csv",
    "tables": ["payments", "finance.payments", "raw.payments"],
    "columns": [
        _col("payment_id", "bigint"),
        {**_col("paid_on", "string", "03/05/2024", "04/06/2024"),
         "readings": {"day_first": _DAY_FIRST, "month_first": _MONTH_FIRST}},
        {**_col("amount", "string", "1,234", "2,500"),
         "readings": {"decimal_comma": _COMMA, "decimal_point": _POINT}},
        {**_col("settled", "boolean", "Y", "N"),
         "format": {"true_values": ["Y"], "false_values": ["N"]}},
        _col("created_at", "timestamp"),
    ],
}  # fmt: skip
"""A source whose dates and amounts read two ways (`03/05/2024`, `1,234`): a request must say
which, or the planner asks."""


def _types(phrases: list[str], column: str, typed: dict[str, Any]) -> list[Clause]:
    def clause(said: str) -> Clause:
        return lambda p, r: (said, {column: typed})

    return [clause(said) for said in phrases]


DATE_ORDERS: list[Clause] = [
    *_types(["dates are day first", "paid_on is day first", "the dates are European, day first",
             "dates in paid_on are dd/mm/yyyy", "paid_on dates look like 31/01/2024",
             "day before month in the dates"], "paid_on", _DAY_FIRST),
    *_types(["dates are month first", "paid_on uses US dates", "paid_on is mm/dd/yyyy",
             "paid_on looks like 01/31/2024", "the month comes first in dates"],
            "paid_on", _MONTH_FIRST),
]  # fmt: skip
SEPARATORS: list[Clause] = [
    *_types(["amounts use a comma for decimals", "amount has a decimal comma",
             "the comma in amount is the decimal separator", "decimal comma"], "amount", _COMMA),
    *_types(["amounts use a decimal point", "the comma is a thousands separator",
             "commas for thousands", "amount uses a comma as the thousands separator"],
            "amount", _POINT),
]  # fmt: skip
FLAGS: list[Clause] = _types(
    ["treat Y as true and N as false", "settled is Y/N", "Y means yes in settled, N means no"],
    "settled",
    {"type": "boolean", "true_values": ["Y"], "false_values": ["N"]},
)
ZONES: list[Clause] = [
    *_types(["timestamps are in Europe/Amsterdam", "times are Amsterdam local time"],
            "created_at", {"type": "timestamp", "timezone": "Europe/Amsterdam"}),
    *_types(["created_at is in UTC"], "created_at", {"type": "timestamp", "timezone": "UTC"}),
]  # fmt: skip
FORMAT_ASKS: list[tuple[list[list[Clause]], str]] = [([], "day first"), ([SEPARATORS], "day first"),
                                               ([DATE_ORDERS], "decimal comma")]  # fmt: skip
"""Requests that leave a reading open: the clauses they have, and what the question holds."""
