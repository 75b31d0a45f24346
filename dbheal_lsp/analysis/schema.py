"""The schema model (tables, columns, indexes, triggers) every check and rule reads.

A database back end fills it (for SQLite, `schema_from_connection` in
databases/sqlite/catalog.py reads it from any connection: the live database, the migrations
replayed in a sandbox, a judge's copy); the engine only reads these values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dbheal_lsp.analysis.sqllex import unquote
from dbheal_lsp.model import Origin

#: Keys of the `origins` mapping a back end copies onto the schema, all names lower-case:
#: ``("table", table)``, ``("column", table, column)`` and ``("index", index)``.
OriginKey = tuple[str, ...]


def type_affinity(declared_type: str) -> str:
    """Return the affinity SQLite gives a column of `declared_type` (rules of datatype3.html 3.1)."""
    upper = declared_type.upper()
    # The order of the tests is the rule: "CHARINT" is INTEGER, "FLOATING POINT" is INTEGER too.
    if "INT" in upper:
        return "INTEGER"
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return "REAL"
    return "NUMERIC"


@dataclass(frozen=True)
class Column:
    """A column of a table or view as SQLite reports it (PRAGMA table_xinfo)."""

    name: str
    declared_type: str
    affinity: str
    not_null: bool
    default: str | None
    primary_key: int
    hidden: int = 0
    origin: Origin | None = None

    @property
    def is_generated(self) -> bool:
        """Return whether this is a generated column (VIRTUAL or STORED)."""
        return self.hidden in (2, 3)


@dataclass(frozen=True)
class Index:
    """An index; expression parts are named "<expr>", automatic indexes have no `sql`."""

    name: str
    table: str
    columns: tuple[str, ...]
    unique: bool
    partial: bool
    sql: str | None
    origin: Origin | None = None

    @property
    def is_automatic(self) -> bool:
        """Return whether SQLite made this index for a UNIQUE or PRIMARY KEY constraint."""
        return self.name.lower().startswith("sqlite_autoindex_")


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key of `table`; `ref_columns` is the parent's primary key when not spelled out."""

    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str = "NO ACTION"
    on_delete: str = "NO ACTION"


@dataclass(frozen=True)
class Table:
    """A table or a view (`is_view`), with its columns in declaration order."""

    name: str
    columns: tuple[Column, ...]
    sql: str | None = None
    origin: Origin | None = None
    is_view: bool = False
    without_rowid: bool = False
    foreign_keys: tuple[ForeignKey, ...] = ()

    def column(self, name: str) -> Column | None:
        """Return the column called `name` (case-insensitive, as SQLite), or None."""
        wanted = unquote(name.strip()).lower()
        for column in self.columns:
            if column.name.lower() == wanted:
                return column
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        """Return the names of the columns in declaration order."""
        return tuple(c.name for c in self.columns)

    @property
    def is_virtual(self) -> bool:
        """Return whether this is a virtual table (FTS5, R*Tree, ...): its module adds hidden
        columns (`rank`, the table's own name for MATCH) that no PRAGMA lists."""
        return bool(self.sql) and " VIRTUAL " in f" {(self.sql or '')[:40].upper()} "

    @property
    def has_rowid(self) -> bool:
        """Return whether rows have a rowid (not a view, not WITHOUT ROWID)."""
        return not self.is_view and not self.without_rowid

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Return the primary-key columns in key order (empty when there is none)."""
        keyed = sorted((c.primary_key, c.name) for c in self.columns if c.primary_key)
        return tuple(name for _, name in keyed)

    @property
    def rowid_alias(self) -> str | None:
        """Return the INTEGER PRIMARY KEY column that is another name for the rowid, or None."""
        key = self.primary_key
        if not self.has_rowid or len(key) != 1:
            return None
        column = self.column(key[0])
        if column is not None and column.declared_type.strip().upper() == "INTEGER":
            return column.name
        return None


@dataclass(frozen=True)
class Trigger:
    """A trigger on `table` with its CREATE TRIGGER statement."""

    name: str
    table: str
    sql: str | None


@dataclass(frozen=True)
class Schema:
    """Everything the checks need to know about a database's schema.

    `tables` (views included), `indexes` and `triggers` are keyed by lower-case name. `ddl`
    rebuilds the schema in an empty database. `version` changes whenever the DDL, the source
    or the recorded origins change, so it can key caches of results.
    """

    tables: Mapping[str, Table] = field(default_factory=lambda: MappingProxyType({}))
    indexes: Mapping[str, Index] = field(default_factory=lambda: MappingProxyType({}))
    triggers: Mapping[str, Trigger] = field(default_factory=lambda: MappingProxyType({}))
    ddl: tuple[str, ...] = ()
    source: str = "empty"
    version: str = ""

    def __hash__(self) -> int:
        return hash((self.source, self.version))

    @classmethod
    def empty(cls, source: str = "empty") -> Schema:
        """Return a schema with no objects."""
        return cls(source=source, version=schema_version((), source, {}))

    def table(self, name: str) -> Table | None:
        """Return the table or view `name` (case-insensitive, quotes and "main." allowed)."""
        return self.tables.get(object_key(name))

    def indexes_on(self, table: str) -> tuple[Index, ...]:
        """Return the indexes of `table`, automatic ones included."""
        key = object_key(table)
        return tuple(i for i in self.indexes.values() if i.table.lower() == key)

    def triggers_on(self, table: str) -> tuple[Trigger, ...]:
        """Return the triggers on `table`."""
        key = object_key(table)
        return tuple(t for t in self.triggers.values() if t.table.lower() == key)

    @property
    def is_empty(self) -> bool:
        """Return whether there is no table, view, index or trigger."""
        return not (self.tables or self.indexes or self.triggers)


def object_key(name: str) -> str:
    """Return the key of `name` in Schema mappings: unquoted, without "main.", lower-case."""
    name = name.strip()
    lowered = name.lower()
    for prefix in ("main.", '"main".', "[main].", "`main`."):
        if lowered.startswith(prefix):
            name = name[len(prefix) :]
            break
    return unquote(name.strip()).lower()


def schema_version(ddl: tuple[str, ...], source: str, origins: Mapping[OriginKey, Origin]) -> str:
    digest = hashlib.sha256()
    digest.update(source.encode())
    for statement in ddl:
        digest.update(b"\x00")
        digest.update(statement.encode("utf-8", "surrogatepass"))
    for key in sorted(origins):
        digest.update(f"\x01{key}={origins[key]}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]
