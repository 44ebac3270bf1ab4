"""What SQL a `kind: sql` source may run: one SELECT, checked by sqlglot, re-rendered.

The statement that runs is sqlglot's rendering of the checked tree, without comments,
not the text the user wrote: a parser difference (MySQL's executable `/*! ... */`
comments, say) cannot smuggle in anything the check did not see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlglot
import sqlglot.errors
from sqlglot import exp

from connectors.errors import SourceError, SpecError
from connectors.spec.sql import SqlSource

_BIND_LIKE = re.compile(r"(?<![:\w]):(?=\w)")

_REFUSED: dict[type[exp.Expression], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Alter: "ALTER",
    exp.TruncateTable: "TRUNCATE",
    exp.Copy: "COPY",
    exp.Into: "SELECT INTO",
    exp.Lock: "a locking clause (FOR UPDATE/FOR SHARE)",
    exp.Command: "a statement that is not a plain SELECT",
}
"""Nodes that change data, take locks or escape the parser, anywhere in the tree."""


def checked_query(spec: SqlSource, dialect: str) -> str:
    """The spec's query, checked to be one read-only SELECT and rendered for the dialect.

    Raises:
        SpecError: the query does not parse, or is not a single read-only SELECT.
    """
    assert spec.query is not None
    tree = _parse_one(spec, dialect)
    for node in tree.walk():
        refused = next((what for kind, what in _REFUSED.items() if isinstance(node, kind)), None)
        if refused:
            raise _refused(spec, f"it contains {refused}")
    return tree.sql(dialect=dialect, comments=False)


def as_text(sql: str) -> sa.TextClause:
    """Checked SQL as a text clause whose colons are never taken for bind parameters."""
    return sa.text(_BIND_LIKE.sub(r"\\:", sql))


def describe_query(sql: str, dialect: str) -> str:
    """A query returning no row but the same columns, so a cursor can describe them."""
    tree = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(tree, exp.Query)
    return exp.select("*").from_(tree.subquery("dagsmith_q")).where("1 = 0").sql(dialect=dialect)


def selected_columns(spec: SqlSource, available: Sequence[str]) -> list[str]:
    """The table's columns to read: the spec's `columns`, all of them when it has none.

    Raises:
        SourceError: `columns` names a column the table does not have.
    """
    wanted = spec.columns or list(available)
    if missing := [c for c in wanted if c not in available]:
        raise SourceError(
            f"{spec.shown}: no column(s) {', '.join(map(repr, missing))} in the table",
            hint=f"the table's columns are: {', '.join(available)}",
        )
    return wanted


def check_unique_names(spec: SqlSource, names: Sequence[str]) -> None:
    """Refuse a query whose result has two columns of one name: a batch needs unique names."""
    if twice := sorted({n for n in names if names.count(n) > 1}):
        raise SourceError(
            f"{spec.shown}: the query returns more than one column named {', '.join(twice)}",
            hint="give each column its own name with AS",
        )


def _parse_one(spec: SqlSource, dialect: str) -> exp.Query:
    try:
        statements = [s for s in sqlglot.parse(spec.query or "", read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise SpecError(
            f"{spec.shown}: the query is not valid SQL for {dialect or 'this database'}: "
            f"{str(exc).splitlines()[0]}",
            hint="fix the query's syntax; only one SELECT statement is accepted",
        ) from None
    if len(statements) != 1:
        raise _refused(spec, f"it holds {len(statements)} statements")
    tree = statements[0]
    if isinstance(tree, exp.Subquery):
        tree = tree.unnest()
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise _refused(spec, f"it is a {tree.key.upper()} statement")
    return tree


def _refused(spec: SqlSource, why: str) -> SpecError:
    return SpecError(
        f"{spec.shown}: the query is refused: {why}; a source reads with one SELECT only",
        hint="write a single SELECT (joins, CTEs and UNIONs are fine), or read a `table`",
    )
