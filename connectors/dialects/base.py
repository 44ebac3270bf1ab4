"""What every database dialect says about itself, and the defaults most of them share.

A dialect is one object per database (`connectors.dialects.postgres.POSTGRES`, ...): its
facts are class attributes, its database-specific statements are methods. Code outside
this package asks the dialect (`dialect.transactional_ddl`, `dialect.upsert(...)`), never
which database it is talking to. The package imports without SQLAlchemy (a SQLite run
never loads it): its types and statements are imported where a method builds them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from connectors.errors import LoadError
from connectors.lineage import names as lineage_names
from connectors.types import ColumnType

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.types import TypeEngine

    from connectors.lineage.names import DatasetName
    from connectors.loaders.base import Loader, NativeTarget
    from connectors.spec.models import Stream

    Address = str | sa.URL
    """A database's SQLAlchemy URL, or its text (which a native target reads without it)."""

    FileStager = Callable[[sa.TableClause, list[str], str], list[str]]
    """Loads a file of rows (`connectors.loaders.sql_bulk.text`) into a table's columns;
    returns what the server reported changing in the values (empty: nothing)."""

STRING = ColumnType("string")
HOLDS: Mapping[str, frozenset[str]] = {
    "integer": frozenset({"int", "numeric", "float"}),
    "bigint": frozenset({"int", "numeric", "float"}),
    "float": frozenset({"float", "numeric"}),
    "decimal": frozenset({"numeric", "float"}),
    "string": frozenset({"text", "json", "other"}),
    "boolean": frozenset({"bool", "int"}),
    "date": frozenset({"date", "timestamp"}),
    "timestamp": frozenset({"timestamp"}),
    "timestamptz": frozenset({"timestamp"}),
    "json": frozenset({"json", "text"}),
}
"""Spec type -> the families of column types that hold its values without losing meaning."""
REJECTS_SUFFIX = "__rejects"
"""A target's rejects table is named `<table>__rejects`."""


def file_url(scheme: str, database: str | None, query: Mapping[str, str]) -> str:
    """The text of a file database's URL, as SQLAlchemy renders `URL.create(scheme,
    database=..., query=...)` (no user, host or port: nothing secret)."""
    text = f"{scheme}://" + ("" if database is None else "/" + quote(database, safe=" +/"))
    options = "&".join(f"{quote_plus(k)}={quote_plus(query[k])}" for k in sorted(query))
    return f"{text}?{options}" if options else text


def file_parts(url: str) -> tuple[str | None, dict[str, str]] | None:
    """(database, query options) of a file database's URL text, as `sa.make_url` reads
    them; None for a URL with a user or host, which SQLAlchemy alone reads."""
    rest, _, query = url.partition("://")[2].partition("?")
    if rest and not rest.startswith("/"):
        return None
    return (unquote(rest[1:]) if rest else None), dict(parse_qsl(query))


def decimal_or_text(precision: int | None, scale: int | None) -> ColumnType:
    """decimal(p,s) when Arrow's decimal128 holds it exactly, else text (which always does)."""
    if precision is None or scale is None or not 0 <= scale <= precision <= 38 or precision < 1:
        return STRING
    return ColumnType("decimal", precision, scale)


class Dialect:
    """One database, as dagsmith reads from it and loads into it.

    Subclasses set the class attributes and override the methods whose default does
    not hold for their database; one instance per database is registered in
    `connectors.dialects`.
    """

    name: ClassVar[str]
    """SQLAlchemy's backend name (`sa.URL.get_backend_name()`, `engine.dialect.name`)."""
    label: ClassVar[str]
    """The database's name for messages."""
    schemes: ClassVar[frozenset[str]] = frozenset()
    """URL schemes and Airflow connection types that name this database."""
    airflow_types: ClassVar[dict[str, str]] = {}
    """Scheme -> Airflow's spelling of the connection type, where they differ."""
    driver: ClassVar[str] = ""
    """SQLAlchemy drivername for a connection that names no driver."""
    driver_modules: ClassVar[tuple[str, ...]] = ()
    """Modules whose exceptions are this database's driver errors."""
    connect_timeout_args: ClassVar[dict[str, str]] = {}
    """Driver -> the connect argument that bounds the wait for the server."""
    file_database: ClassVar[bool] = False
    """The URL names a file (no host); a load creates it."""
    sql_source: ClassVar[bool] = True
    """Read by `kind: sql`: a URL of it stands for a connection in `dagsmith profile`."""
    reflects: ClassVar[bool] = True
    """SQLAlchemy's reflection works (duckdb-engine's fails on SQLAlchemy 2.1)."""
    schemas: ClassVar[bool] = True
    """A table may be named `schema.table`."""
    transactional_ddl: ClassVar[bool] = False
    """CREATE TABLE rolls back with the transaction it ran in."""
    named_locks: ClassVar[bool] = False
    """Loads of one table take turns under a named lock (the DDL cannot be rolled back)."""
    max_identifier: ClassVar[int | None] = 63
    """Longest identifier the database keeps whole (None: no limit that matters)."""
    identifier_unit: ClassVar[Literal["bytes", "characters"]] = "bytes"
    quote: ClassVar[str] = '"'
    """The character that quotes an identifier."""
    sqlglot: ClassVar[str] = ""
    """The sqlglot dialect that reads its SQL ('' is sqlglot's generic SQL)."""
    read_only: ClassVar[tuple[str, ...] | None] = None
    """Statements that make a session read-only; None: the database has none."""
    transient_codes: ClassVar[frozenset[str | int]] = frozenset()
    """Error codes of conditions that pass on their own (a retry may succeed)."""
    transient_prefixes: ClassVar[tuple[str, ...]] = ()
    """SQLSTATE classes (or codes) of such conditions, matched as prefixes."""
    conflict_codes: ClassVar[frozenset[str | int]] = frozenset()
    """Deadlock and serialization failure: the statement may simply be run again."""
    lost_without_code: ClassVar[bool] = True
    """An OperationalError without a code is a lost connection (SQLite: any error)."""
    integers_64bit: ClassVar[bool] = False
    """Every integer column holds 64 bits (SQLite)."""
    timestamp_is_utc: ClassVar[bool] = False
    """A TIMESTAMP column reads as UTC (the read-only session sets the time zone)."""
    naive_utc: ClassVar[bool] = False
    """Zoned timestamps are stored, and bound, as naive UTC."""
    query_json_parsed: ClassVar[bool] = True
    """The driver parses a query's JSON columns (PyMySQL hands them over as text)."""
    arrow_drivers: ClassVar[frozenset[str]] = frozenset()
    """Drivers whose URLs the Arrow-native reader takes (ADBC for PostgreSQL)."""
    loader_path: ClassVar[str] = "connectors.loaders.sql:SqlLoader"
    """`module:class` of the loader (its bulk-load path)."""
    rights_path: ClassVar[str | None] = None
    """`module:function` listing the rights a load lacks; None: not checked."""
    lineage_scheme: ClassVar[str] = ""
    """The scheme of its datasets' namespace in OpenLineage ('' is `name`): `postgres`."""
    default_port: ClassVar[int | None] = None
    """The server's port when a URL names none (a dataset's namespace always has one)."""
    default_schema: ClassVar[str | None] = None
    """The schema a table without one is in (`public`), named in its lineage dataset."""
    read_only_args: ClassVar[dict[str, Any]] = {}
    """Connect arguments that open the database read-only (a file: neither created nor locked)."""
    upsert_counts_updates: ClassVar[bool] = False
    """The upsert's affected-row count tells the rows it updated (`updated_rows`), so the
    loader need not compare the rows before the merge."""

    def __repr__(self) -> str:
        return f"<dialect {self.name}>"

    # Identifiers

    def identifier_length(self, name: str) -> int:
        """The length of a name, in the unit the database limits."""
        return len(name.encode()) if self.identifier_unit == "bytes" else len(name)

    def identifier_fits(self, name: str) -> bool:
        """Whether the database keeps the name whole (no truncation, no refusal)."""
        return self.max_identifier is None or self.identifier_length(name) <= self.max_identifier

    def identifier_limit(self) -> str:
        """The limit in words ("63 bytes"), for messages."""
        return f"{self.max_identifier} {self.identifier_unit}"

    def reflected_name(self, name: str) -> str:
        """A column name as reflection gives it, undone of the dialect's escaping."""
        return name

    # Errors

    def is_transient(self, code: str | int) -> bool:
        """Whether an error code is a condition that passes on its own."""
        prefixed = isinstance(code, str) and code.startswith(self.transient_prefixes)
        return prefixed or code in self.transient_codes

    def raised(self, error: BaseException | None) -> bool:
        """Whether the driver error came from this database's driver."""
        module = type(error).__module__ if error is not None else ""
        return module.split(".")[0] in self.driver_modules

    # Types

    def holds(self, ctype: ColumnType, family: str) -> bool:
        """Whether an existing column of the type family holds the spec type's values."""
        return family in HOLDS[ctype.name]

    def ddl_type(self, ctype: ColumnType, key: bool = False) -> TypeEngine[Any]:
        """The column type a spec type gets when dagsmith creates the table."""
        import sqlalchemy as sa

        simple: dict[str, TypeEngine[Any]] = {
            "integer": sa.Integer(),
            "bigint": sa.BigInteger(),
            "float": sa.Double(),
            "boolean": sa.Boolean(),
            "date": sa.Date(),
        }
        if ctype.name in simple:
            return simple[ctype.name]
        if ctype.name == "decimal":
            return sa.Numeric(ctype.precision, ctype.scale)
        if ctype.name in ("timestamp", "timestamptz"):
            return sa.DateTime(timezone=ctype.name == "timestamptz")
        if ctype.name == "json":
            return sa.JSON()
        return sa.Text()

    def described_type(self, column: Sequence[Any]) -> ColumnType:
        """The spec type of a DB-API description entry (name, type_code, _, size, precision,
        scale); text where the driver's codes say nothing dagsmith reads."""
        return STRING

    # Statements

    def upsert(self, target: sa.TableClause, rows: Any, keys: list[str]) -> Any:
        """INSERT ... SELECT that updates the rows whose key exists."""
        raise LoadError(
            f"upsert is not supported on {self.name}",
            hint="use append or replace, or a PostgreSQL, MySQL/MariaDB or SQLite target",
        )

    def updated_rows(self, affected: int, merged: int) -> int:
        """The rows an upsert of `merged` rows updated, from its affected-row count (only
        where `upsert_counts_updates`)."""
        raise NotImplementedError

    def row_estimate(self, schema: str, name: str, quoted: str) -> str | None:
        """SQL returning the catalogue's row estimate of a table (column `n`); None: none."""
        return None

    def sample(self, columns: str, quoted: str, percent: float) -> str | None:
        """SQL sampling about `percent` % of a table without a scan; None: no such way."""
        return None

    def quoted(self, name: str) -> str:
        """A checked identifier (or `schema.table`) quoted, part by part."""
        return ".".join(f"{self.quote}{part}{self.quote}" for part in name.split("."))

    # Lineage

    def dataset(self, url: sa.URL, table: str) -> DatasetName:
        """A table as OpenLineage names it: `scheme://host:port` and `database.schema.table`
        (a file database: `scheme://path`, and `file.schema.table`, the file's stem being
        its catalog). Never a user or password."""
        schema, _, name = table.rpartition(".")
        scheme = self.lineage_scheme or self.name
        if self.file_database:
            catalog = PurePath(url.database or "").stem if self.schemas else None
            return lineage_names.table(
                f"{scheme}://{url.database}", catalog, schema or self.default_schema, name
            )
        port = url.port or self.default_port
        namespace = f"{scheme}://{url.host or 'localhost'}" + (f":{port}" if port else "")
        return lineage_names.table(namespace, url.database, schema or self.default_schema, name)

    # Connections and loads

    def prepare_engine(self, engine: sa.Engine) -> None:
        """Set up an engine of the generic loader (SQLite leaves BEGIN to SQLAlchemy)."""

    def file_stager(self, conn: sa.Connection) -> FileStager | None:
        """How the generic loader sends rows as a file on this connection; None: it
        inserts them with executemany."""
        return None

    def lock_schema(self, conn: sa.Connection, schema: str | None) -> None:
        """Hold, until the transaction ends, the lock loads create a schema's tables under; a
        no-op where `CREATE ... IF NOT EXISTS` cannot collide with their DDL."""

    def shown(self, url: Address) -> str:
        """The URL as messages show it, its password masked."""
        return _sa_url(url).render_as_string(hide_password=True)

    def native(self, url: Address) -> NativeTarget | None:
        """The target at `url` reached through the driver alone, without SQLAlchemy (its
        load, state, failed-run records and columns); None: through SQLAlchemy."""
        return None

    def loader(self, url: Address) -> Loader:
        """The loader of a target URL of this database: the native target's, else
        `loader_path`'s."""
        native = self.native(url)
        if native is not None:
            return native
        loader: Loader = _imported(self.loader_path)(_sa_url(url))
        return loader

    def missing_rights(self, conn: sa.Connection, stream: Stream, keyed: bool) -> list[str]:
        """The rights the connection's role lacks to load `stream` (empty: none missing)."""
        if self.rights_path is None:
            return []
        missing: list[str] = _imported(self.rights_path)(conn, stream, keyed)
        return missing


def _sa_url(url: Address) -> sa.URL:
    import sqlalchemy as sa

    return sa.make_url(url)


def _imported(path: str) -> Any:
    """The object a `module:name` path names, imported when first needed."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)
