"""The schema the migrations define, replayed on the server and rolled back.

The migration files, split by PostgreSQL's rules (statements.py: a `$$` function body is one
statement), run in order in a fresh schema (`dbheal_replay_...`, first on the
`search_path`) inside one transaction that is rolled back: ~30 ms, no special rights, nothing
kept. A statement that fails is undone by its savepoint and noted at its line; the schema the
others built is read from the catalog, each table and column with the file and line that
defined it. DDL found in code builds its schema the same way.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dbheal_lsp.analysis.ddl import column_offsets
from dbheal_lsp.analysis.migrations import (
    MigrationError,
    MigrationResult,
    MigrationStatement,
    StatementKind,
)
from dbheal_lsp.analysis.schema import Index, Schema, Table
from dbheal_lsp.databases.postgres.catalog import schema_from_catalog
from dbheal_lsp.databases.postgres.statements import migration_statements
from dbheal_lsp.model import Origin

if TYPE_CHECKING:
    import psycopg

__all__ = ["replay_migrations", "replay_statements"]

_NAME = r'"?([\w$]+)"?(?:\s*\.\s*"?([\w$]+)"?)?'
_CREATE_TABLE = re.compile(
    r"^\s*CREATE\s+(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?" + _NAME,
    re.IGNORECASE,
)
_CREATE_VIEW = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    + _NAME,
    re.IGNORECASE,
)
_CREATE_INDEX = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b.*?\bON\s+(?:ONLY\s+)?" + _NAME, re.IGNORECASE | re.DOTALL
)
_CREATE_TRIGGER = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+\"?[\w$]+\"?.*?\bON\s+(?:ONLY\s+)?"
    + _NAME,
    re.IGNORECASE | re.DOTALL,
)
_INDEX_NAME = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?\"?([\w$]+)",
    re.IGNORECASE,
)
_ADD_COLUMN = re.compile(
    r"^\s*ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?" + _NAME + r"\s+ADD\s+(?:COLUMN\s+)?"
    r"(?:IF\s+NOT\s+EXISTS\s+)?\"?([\w$]+)",
    re.IGNORECASE,
)


def replay_migrations(
    conn: psycopg.Connection[Any], folder: Path, root: Path | None
) -> MigrationResult:
    """Return the schema the migration files of `folder` build (see module docstring)."""
    files, statements, errors = migration_statements(folder, root)
    result = replay_statements(conn, statements, "migrations")
    return replace(result, errors=tuple(errors) + result.errors, files=files)


def replay_statements(
    conn: psycopg.Connection[Any], statements: Sequence[tuple[str, Origin]], source: str
) -> MigrationResult:
    """Return the schema `statements` build in a fresh schema, rolled back at the end."""
    from psycopg import pq

    pgconn = conn.pgconn
    name = f"dbheal_replay_{secrets.token_hex(6)}"
    ran: list[MigrationStatement] = []
    errors: list[MigrationError] = []
    pgconn.exec_(b"BEGIN")
    try:
        for setup in (
            "SET LOCAL lock_timeout = '2s'",
            "SET LOCAL statement_timeout = '10s'",
            f"CREATE SCHEMA {name}",
            f"SET LOCAL search_path = {name}",
        ):
            _must(pgconn.exec_(setup.encode()), setup)
        for sql, origin in statements:
            pgconn.exec_(b"SAVEPOINT dbheal_step")
            result = pgconn.exec_(sql.encode("utf-8", "replace"))
            if result.status == pq.ExecStatus.FATAL_ERROR:
                pgconn.exec_(b"ROLLBACK TO SAVEPOINT dbheal_step")
                message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b""
                errors.append(
                    MigrationError(origin.path, origin.line, message.decode("utf-8", "replace"))
                )
                continue
            pgconn.exec_(b"RELEASE SAVEPOINT dbheal_step")
            ran.append(_statement(sql, origin))
        schema = schema_from_catalog(conn, name, source)
    finally:
        pgconn.exec_(b"ROLLBACK")
    return MigrationResult(
        _with_origins(schema, ran),
        tuple(errors),
        (),
        tuple(ran),
        MappingProxyType(_by_table(ran)),
        MappingProxyType(
            {(s.table.lower(), s.column.lower()): s for s in ran if s.table and s.column}
        ),
    )


def _must(result: Any, what: str) -> None:
    from psycopg import pq

    if result.status == pq.ExecStatus.FATAL_ERROR:
        message = (result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode()
        raise _replay_error(f"{what}: {message}")


def _replay_error(message: str) -> Exception:
    from dbheal_lsp.databases.database import SchemaError

    return SchemaError(f"cannot replay the migrations on the server: {message}")


def _statement(sql: str, origin: Origin) -> MigrationStatement:
    """Return what `sql` did: the kind of statement and the table (and column) it made."""
    kind: StatementKind = "other"
    table = column = None
    if m := _CREATE_TABLE.match(sql):
        kind, table = "create_table", m.group(2) or m.group(1)
    elif m := _CREATE_VIEW.match(sql):
        kind, table = "create_view", m.group(2) or m.group(1)
    elif m := _CREATE_INDEX.match(sql):
        kind, table = "create_index", m.group(2) or m.group(1)
    elif m := _CREATE_TRIGGER.match(sql):
        kind, table = "create_trigger", m.group(2) or m.group(1)
    elif m := _ADD_COLUMN.match(sql):
        kind, table, column = "add_column", m.group(2) or m.group(1), m.group(3)
    return MigrationStatement(origin.path, origin.line, sql, kind, table, column)


def _by_table(ran: list[MigrationStatement]) -> dict[str, tuple[MigrationStatement, ...]]:
    tables: dict[str, list[MigrationStatement]] = {}
    for statement in ran:
        if statement.table is not None:
            tables.setdefault(statement.table.lower(), []).append(statement)
    return {name: tuple(found) for name, found in tables.items()}


def _with_origins(schema: Schema, ran: list[MigrationStatement]) -> Schema:
    """Return `schema` with each table, column and index's defining file and line."""
    tables: dict[str, Table] = dict(schema.tables)
    indexes: dict[str, Index] = dict(schema.indexes)
    for statement in ran:
        if statement.kind == "create_index" and (m := _INDEX_NAME.match(statement.sql)):
            index = indexes.get(m.group(1).lower())
            if index is not None:
                indexes[index.name.lower()] = replace(index, origin=statement.origin)
        table = tables.get((statement.table or "").lower())
        if table is None:
            continue
        if statement.kind in ("create_table", "create_view"):
            offsets = {k.lower(): v for k, v in column_offsets(statement.sql).items()}
            columns = tuple(
                replace(c, origin=_line_of(statement, offsets.get(c.name.lower(), 0)))
                for c in table.columns
            )
            tables[table.name.lower()] = replace(table, columns=columns, origin=statement.origin)
        elif statement.kind == "add_column" and statement.column:
            columns = tuple(
                replace(c, origin=statement.origin)
                if c.name.lower() == statement.column.lower()
                else c
                for c in table.columns
            )
            tables[table.name.lower()] = replace(table, columns=columns)
    return replace(schema, tables=MappingProxyType(tables), indexes=MappingProxyType(indexes))


def _line_of(statement: MigrationStatement, offset: int) -> Origin:
    return Origin(statement.path, statement.line + statement.sql[:offset].count("\n"))
