"""The expected schema as values: what replaying the migrations (or the DDL found in code) gives.

Replaying (`replay.py`) records where each table, column and index was created, so that
issues can point at the migration to blame and fixes can recreate a missing table from the
statements that define it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from dbheal_lsp.analysis.schema import Schema, object_key
from dbheal_lsp.model import Origin

StatementKind = Literal[
    "create_table", "create_view", "add_column", "create_index", "create_trigger", "other"
]


@dataclass(frozen=True)
class MigrationError:
    """A statement of a migration that failed, at the line where it starts."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}: {self.message}"
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class MigrationStatement:
    """One statement that ran, what it did, and where it is (`sql` has no final semicolon)."""

    path: str
    line: int
    sql: str
    kind: StatementKind
    table: str | None = None
    column: str | None = None

    @property
    def origin(self) -> Origin:
        """Return the file and line of this statement."""
        return Origin(self.path, self.line)


@dataclass(frozen=True)
class MigrationResult:
    """The schema the migrations produce, the statements that failed, and the files replayed."""

    schema: Schema
    errors: tuple[MigrationError, ...] = ()
    files: tuple[Path, ...] = ()
    statements: tuple[MigrationStatement, ...] = ()
    table_statements: Mapping[str, tuple[MigrationStatement, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    column_statements: Mapping[tuple[str, str], MigrationStatement] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def statements_for_table(self, name: str) -> tuple[MigrationStatement, ...]:
        """Return, in order, the statements that build table `name` as it is now.

        That is its CREATE statement (or the one of the table later renamed to `name`), the
        ALTER TABLE statements on it, and the CREATE INDEX and CREATE TRIGGER statements on it
        whose objects still exist. Running them in an empty database recreates the table.
        """
        return self.table_statements.get(object_key(name), ())

    def column_statement(self, table: str, column: str) -> MigrationStatement | None:
        """Return the CREATE TABLE or ALTER TABLE ADD COLUMN statement that made the column."""
        return self.column_statements.get((object_key(table), object_key(column)))

    def ddl_for_table(self, name: str) -> tuple[str, ...]:
        """Return the final CREATE statements of table `name`, its indexes and its triggers."""
        table = self.schema.table(name)
        if table is None or table.sql is None:
            return ()
        indexes = [i.sql for i in self.schema.indexes_on(name) if i.sql]
        triggers = [t.sql for t in self.schema.triggers_on(name) if t.sql]
        return (table.sql, *indexes, *triggers)
