"""The schema model (tables, columns, indexes, triggers), read from any SQLite connection.

One function, `schema_from_connection`, reads a schema from any SQLite connection: the live
database opened read-only by `LiveDatabase` (databases/sqlite/live_db.py), or the in-memory database
the migrations were replayed into. `oracle_connection` gives the checks a scratch copy of a
schema to prepare statements against, so the live database is never touched by analysis.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dbheal_lsp.analysis.sqllex import unquote
from dbheal_lsp.model import Origin

#: Keys of the `origins` mapping given to `schema_from_connection`, all names lower-case:
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
        return cls(source=source, version=_version((), source, {}))

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


def _version(ddl: tuple[str, ...], source: str, origins: Mapping[OriginKey, Origin]) -> str:
    digest = hashlib.sha256()
    digest.update(source.encode())
    for statement in ddl:
        digest.update(b"\x00")
        digest.update(statement.encode("utf-8", "surrogatepass"))
    for key in sorted(origins):
        digest.update(f"\x01{key}={origins[key]}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


#: A row of `sqlite_master`: type, name, tbl_name, sql.
_MasterRow = tuple[str, str, str, str | None]


def schema_from_connection(
    conn: sqlite3.Connection,
    source: str,
    origins: Mapping[OriginKey, Origin] | None = None,
) -> Schema:
    """Return the schema of the main database of `conn`.

    `origins` (keys described by `OriginKey`) are copied onto tables, columns and indexes; a
    column without an origin of its own takes its table's. Internal `sqlite_%` tables are left
    out of `tables` and `ddl`; automatic indexes are kept in `indexes` (they serve lookups).
    """
    origins = origins or {}
    rows: list[_MasterRow] = conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY rowid"
    ).fetchall()
    master_sql = {name.lower(): sql for _, name, _, sql in rows}
    position = {name.lower(): n for n, (_, name, _, _) in enumerate(rows)}

    tables: dict[str, Table] = {}
    index_rows: list[tuple[int, int, Index]] = []
    pending_fks: dict[str, list[ForeignKey]] = {}
    for kind, name, _, sql in rows:
        if kind not in ("table", "view") or name.lower().startswith("sqlite_"):
            continue
        key = name.lower()
        table_origin = origins.get(("table", key))
        columns = tuple(
            _column(row, origins.get(("column", key, str(row[1]).lower())) or table_origin)
            for row in _pragma(conn, "table_xinfo", name)
        )
        without_rowid = False
        if kind == "table":
            without_rowid, found = _table_indexes(conn, name, master_sql, origins)
            index_rows.extend((position[key], position.get(i.name.lower(), -1), i) for i in found)
            pending_fks[key] = _foreign_keys(conn, name)
        tables[key] = Table(
            name=name,
            columns=columns,
            sql=sql,
            origin=table_origin,
            is_view=kind == "view",
            without_rowid=without_rowid,
        )

    for key, fks in pending_fks.items():
        if fks:
            tables[key] = _with_fks(tables[key], fks, tables)

    index_rows.sort(key=lambda item: (item[0], item[1]))
    indexes = {index.name.lower(): index for _, _, index in index_rows}
    triggers = {
        name.lower(): Trigger(name=name, table=table, sql=sql)
        for kind, name, table, sql in rows
        if kind == "trigger"
    }
    ddl = _ddl(rows)
    return Schema(
        tables=MappingProxyType(tables),
        indexes=MappingProxyType(indexes),
        triggers=MappingProxyType(triggers),
        ddl=ddl,
        source=source,
        version=_version(ddl, source, origins),
    )


def _table_indexes(
    conn: sqlite3.Connection,
    table: str,
    master_sql: Mapping[str, str | None],
    origins: Mapping[OriginKey, Origin],
) -> tuple[bool, list[Index]]:
    """Return whether `table` is WITHOUT ROWID, and its indexes (automatic ones included)."""
    table_origin = origins.get(("table", table.lower()))
    without_rowid = False
    indexes: list[Index] = []
    for _, index_name, unique, index_kind, partial in _pragma(conn, "index_list", table):
        if index_kind == "pk":
            # The primary-key index of a rowid table carries the rowid (cid -1).
            cids = [r[1] for r in _pragma(conn, "index_xinfo", index_name)]
            without_rowid = -1 not in cids
        parts = tuple(
            "<expr>" if cid == -2 or col is None else ("rowid" if cid == -1 else col)
            for _, cid, col in _pragma(conn, "index_info", index_name)
        )
        indexes.append(
            Index(
                name=index_name,
                table=table,
                columns=parts,
                unique=bool(unique),
                partial=bool(partial),
                sql=master_sql.get(index_name.lower()),
                origin=origins.get(("index", index_name.lower())) or table_origin,
            )
        )
    return without_rowid, indexes


def _ddl(rows: list[_MasterRow]) -> tuple[str, ...]:
    """The statements that rebuild the schema in an empty database, tables first."""
    ddl: list[str] = []
    for wanted in ("table", "index", "view", "trigger"):
        ddl.extend(
            sql
            for kind, name, _, sql in rows
            if kind == wanted and sql and not name.lower().startswith("sqlite_")
        )
    return tuple(ddl)


def _pragma(conn: sqlite3.Connection, pragma: str, name: str) -> list[tuple[Any, ...]]:
    # Table-valued pragma functions take the name as a bound parameter, so no quoting is needed.
    try:
        rows: list[tuple[Any, ...]] = conn.execute(
            f"SELECT * FROM pragma_{pragma}(?, 'main')", (name,)
        ).fetchall()
    except sqlite3.OperationalError as exc:
        # A view over a missing table or a virtual table of an unknown module cannot be
        # described; report it without columns rather than losing the whole schema.
        if is_busy(exc):
            raise
        return []
    return rows


def _column(row: tuple[Any, ...], origin: Origin | None) -> Column:
    _, name, declared, notnull, default, pk, hidden = row[:7]
    declared = declared or ""
    return Column(
        name=name,
        declared_type=declared,
        affinity=type_affinity(declared),
        not_null=bool(notnull),
        default=None if default is None else str(default),
        primary_key=int(pk),
        hidden=int(hidden),
        origin=origin,
    )


def _foreign_keys(conn: sqlite3.Connection, table: str) -> list[ForeignKey]:
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for row in _pragma(conn, "foreign_key_list", table):
        grouped.setdefault(int(row[0]), []).append(row)
    keys = []
    for fk_id in sorted(grouped):
        parts = sorted(grouped[fk_id], key=lambda r: int(r[1]))
        first = parts[0]
        keys.append(
            ForeignKey(
                table=table,
                columns=tuple(str(r[3]) for r in parts),
                ref_table=str(first[2]),
                # "to" is NULL when the parent's primary key is meant; resolved later.
                ref_columns=tuple("" if r[4] is None else str(r[4]) for r in parts),
                on_update=str(first[5]),
                on_delete=str(first[6]),
            )
        )
    return keys


def _with_fks(table: Table, fks: list[ForeignKey], tables: Mapping[str, Table]) -> Table:
    resolved = []
    for fk in fks:
        if "" in fk.ref_columns:
            parent = tables.get(fk.ref_table.lower())
            if parent is not None and len(parent.primary_key) == len(fk.columns):
                fk = ForeignKey(
                    fk.table,
                    fk.columns,
                    fk.ref_table,
                    parent.primary_key,
                    fk.on_update,
                    fk.on_delete,
                )
        resolved.append(fk)
    return Table(
        name=table.name,
        columns=table.columns,
        sql=table.sql,
        origin=table.origin,
        is_view=table.is_view,
        without_rowid=table.without_rowid,
        foreign_keys=tuple(resolved),
    )


def oracle_connection(schema: Schema, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Return a new sandbox (`databases/sqlite/sandbox.py`) into which `schema.ddl` has been replayed.

    Only texts that begin with CREATE (after comments) run: a schema row holds whatever was
    written into sqlite_master while writable_schema was on, `VACUUM INTO` or `ATTACH` too.
    They run under the sandbox's authorizer and budget. Statements that fail are skipped: the
    shadow tables of a virtual table already exist once the virtual table is created, and a
    virtual table of an unknown module cannot be made. The result is a `Sandbox`, which is a
    `sqlite3.Connection`.
    """
    # Imported here: the sandbox module is the one place analysis connections are made.
    from dbheal_lsp.databases.sqlite.sandbox import first_keyword, open_sandbox

    box = open_sandbox(check_same_thread=check_same_thread)
    for statement in schema.ddl:
        if first_keyword(statement) != "CREATE":
            continue
        try:
            box.run(statement)
        except sqlite3.Error:
            continue
    return box


def is_busy(exc: sqlite3.Error) -> bool:
    """Return whether `exc` says another connection holds a lock (SQLITE_BUSY, SQLITE_LOCKED)."""
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text
