"""A row filter pushed into a database source's SELECT, as SQLAlchemy expressions.

Only tests on columns the database compares exactly as Arrow does are pushed: integers,
decimals, dates and booleans. Text is left out (collations fold case and pad spaces, and
dagsmith trims text before the filter), so are timestamps (zones) and floats (a
single-precision column compares as its binary value in SQL, as its shortest decimal text
once read). Every value is a bound,
typed parameter: nothing from the spec is pasted into SQL. The transform still runs
the whole filter on what is read, so a pushed test only saves reading rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from connectors.errors import DagsmithError
from connectors.runtime import Pushdown
from connectors.spec.filter import AllOf, AnyOf, Condition, Filter
from connectors.transforms.validate import typed_value
from connectors.types import ColumnType

Bind = Callable[[Any, ColumnType], ColumnElement[Any]]
"""Turns a Python value of a column's type into a bound parameter."""

_SIMPLE: dict[str, sa.types.TypeEngine[Any]] = {
    "integer": sa.Integer(),
    "bigint": sa.BigInteger(),
    "boolean": sa.Boolean(),
    "date": sa.Date(),
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def sql_type(ctype: ColumnType) -> sa.types.TypeEngine[Any] | None:
    """The SQL type a pushed value is bound as; None for a type that is never pushed."""
    if ctype.name == "decimal":
        return sa.Numeric(ctype.precision, ctype.scale)
    return _SIMPLE.get(ctype.name)


def typed_bind(value: Any, ctype: ColumnType) -> ColumnElement[Any]:
    """A parameter bound with the column's type (drivers that adapt Python values)."""
    return sa.bindparam(None, value, type_=sql_type(ctype))


def text_bind(value: Any, ctype: ColumnType) -> ColumnElement[Any]:
    """A text parameter the server casts to the column's type (ADBC binds text safely)."""
    type_ = sql_type(ctype)
    assert type_ is not None
    return sa.cast(sa.bindparam(None, str(value), type_=sa.Text()), type_)


def where(
    pushdown: Pushdown | None,
    columns: Mapping[str, ColumnElement[Any]],
    types: Mapping[str, ColumnType],
    bind: Bind = typed_bind,
) -> ColumnElement[bool] | None:
    """The pushable tests of a filter (its `all` items taken one by one), or None.

    Args:
        pushdown: The candidate tests and the spec's declared types of their columns.
        columns: The SELECT's columns by name.
        types: The source's spec type of each column.
        bind: How a value becomes a parameter.
    """
    if pushdown is None:
        return None
    types = {c: t for c, t in types.items() if _same(t, pushdown.declared.get(c, t))}
    rule = pushdown.filter
    parts = rule.all if isinstance(rule, AllOf) else [rule]
    clauses = [c for c in (_clause(p, columns, types, bind) for p in parts) if c is not None]
    return sa.and_(*clauses) if clauses else None


def _same(source: ColumnType, declared: ColumnType) -> bool:
    """Whether casting to the declared type leaves every value (and so every test) as is."""
    integers = {"integer", "bigint"}
    if source.name in integers and declared.name in integers:
        return True
    return (source.name, source.scale) == (declared.name, declared.scale)


def _clause(
    node: Filter,
    columns: Mapping[str, ColumnElement[Any]],
    types: Mapping[str, ColumnType],
    bind: Bind,
) -> ColumnElement[bool] | None:
    """One test as SQL, or None when any part of it cannot be pushed."""
    if isinstance(node, Condition):
        return _condition(node, columns, types, bind)
    children = node.all if isinstance(node, AllOf) else node.any
    clauses = [_clause(child, columns, types, bind) for child in children]
    if any(clause is None for clause in clauses):
        return None
    combine = sa.or_ if isinstance(node, AnyOf) else sa.and_
    return combine(*(clause for clause in clauses if clause is not None))


def _condition(
    rule: Condition,
    columns: Mapping[str, ColumnElement[Any]],
    types: Mapping[str, ColumnType],
    bind: Bind,
) -> ColumnElement[bool] | None:
    ctype = types.get(rule.column)
    if ctype is None or sql_type(ctype) is None or rule.column not in columns:
        return None
    column = columns[rule.column]
    if rule.op in ("is_null", "is_not_null"):
        return column.is_(None) if rule.op == "is_null" else column.is_not(None)
    given = rule.value if isinstance(rule.value, list) else [rule.value]
    raw = [value for value in given if value is not None]
    try:
        values = [typed_value("filter", v, rule.column, ctype.arrow(), ctype) for v in raw]
    except DagsmithError:
        return None  # the transform's own filter reports the value, with its field
    binds = [bind(value.as_py(), ctype) for value in values if value.is_valid]
    if len(binds) != len(values):
        return None
    if rule.op == "between":
        return column.between(binds[0], binds[1])
    if rule.op in ("in", "not_in"):
        return column.in_(binds) if rule.op == "in" else column.not_in(binds)
    result: ColumnElement[bool] = _COMPARE[rule.op](column, binds[0])
    return result
