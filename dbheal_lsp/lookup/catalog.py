"""The live schema, the migrations' schema and their drift as one catalog for hover and completion."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.drift import Drift
from dbheal_lsp.analysis.schema import Column, Index, Schema, Table
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.model import Origin

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.project import Project


@dataclass(frozen=True)
class Catalog:
    """The live schema, the migrations' schema and their drift, with paths shown for the user."""

    schema: Schema
    expected: Schema | None
    drift: Drift
    migrations: MigrationResult | None
    root: Path

    def live(self, name: str) -> Table | None:
        return self.schema.table(name)

    def defined(self, name: str) -> Table | None:
        """Return the migrations' table `name` (None when there are no migrations)."""
        return self.expected.table(name) if self.expected is not None else None

    def table(self, name: str) -> Table | None:
        """Return the live table `name`, else the one only the migrations define."""
        return self.live(name) or self.defined(name)

    @cached_property
    def live_indexes(self) -> dict[str, list[Index]]:
        """The live indexes by lower-case table name: one pass, not one per table shown."""
        return _by_table(self.schema)

    @cached_property
    def defined_indexes(self) -> dict[str, list[Index]]:
        """The migrations' indexes by lower-case table name."""
        return _by_table(self.expected) if self.expected is not None else {}

    def shown(self, origin: Origin | None) -> str | None:
        """Return `origin` as "path:line" with the path relative to the root."""
        if origin is None:
            return None
        return f"{_relative(str(self.root), origin.path)}:{origin.line}"


@lru_cache(maxsize=256)
def _relative(root: str, path: str) -> str:
    # Cached: a few migration files are shown again and again, for every column listed.
    try:
        return Path(path).relative_to(root).as_posix() if Path(path).is_absolute() else path
    except ValueError:
        return path


def pending_columns(live: Table | None, defined: Table | None) -> list[Column]:
    """Return the columns the migrations give a live table and the database lacks."""
    if live is None or defined is None:
        return []
    names = {c.name.lower() for c in live.columns}
    return [c for c in defined.columns if c.name.lower() not in names]


def _by_table(schema: Schema) -> dict[str, list[Index]]:
    found: dict[str, list[Index]] = {}
    for index in schema.indexes.values():
        found.setdefault(index.table.lower(), []).append(index)
    return found


# What reading the schemas may raise: the catalog then falls back to what can be read.
_UNREADABLE: tuple[type[Exception], ...] = (SchemaError, OSError, *DatabaseError)
_MIGRATIONS_UNREADABLE: tuple[type[Exception], ...] = (OSError, *DatabaseError)


def catalog_of(project: Project) -> Catalog:
    """Return the project's schemas as one catalog (cached while they are unchanged)."""
    root = project.config.root
    try:
        state = project.schema_state()
    except _UNREADABLE:
        # An unreadable database (locked, replaced, missing) must not cost the hover: the
        # migrations alone still describe the schema.
        migrations = None
        if project.config.migrations is not None:
            try:
                migrations = project.database.migrations(project.config.migrations)
            except _MIGRATIONS_UNREADABLE:
                migrations = None
        expected = migrations.schema if migrations is not None else None
        return Catalog(expected or Schema.empty(), expected, Drift(), migrations, root)
    return Catalog(state.schema, state.expected, state.drift, state.migrations, root)
