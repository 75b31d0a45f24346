"""Reading a SQLite schema: the schema model from any connection, and a judge's scratch copy.

`schema_from_connection` reads the `Schema` (analysis/schema.py) of any SQLite connection: the
live database opened read-only by `LiveDatabase` (live_db.py), the in-memory database the
migrations were replayed into, or a judge's copy. `oracle_connection` gives the checks a scratch
copy of a schema to prepare statements against, so the live database is never touched by analysis.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from dbheal_lsp.analysis.schema import (
    Column,
    ForeignKey,
    Index,
    OriginKey,
    Schema,
    Table,
    Trigger,
    schema_version,
    type_affinity,
)
from dbheal_lsp.databases.sqlite.sandbox import Sandbox, first_keyword, open_sandbox
from dbheal_lsp.model import Origin

__all__ = ["is_busy", "oracle_connection", "schema_from_connection"]

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
        version=schema_version(ddl, source, origins),
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


def oracle_connection(schema: Schema, *, check_same_thread: bool = True) -> Sandbox:
    """Return a new sandbox (`databases/sqlite/sandbox.py`) into which `schema.ddl` has been replayed.

    Only texts that begin with CREATE (after comments) run: a schema row holds whatever was
    written into sqlite_master while writable_schema was on, `VACUUM INTO` or `ATTACH` too.
    They run under the sandbox's authorizer and budget. Statements that fail are skipped: the
    shadow tables of a virtual table already exist once the virtual table is created, and a
    virtual table of an unknown module cannot be made. The result is a `Sandbox`, which is a
    `sqlite3.Connection`.
    """
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
