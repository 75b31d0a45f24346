"""`OfflinePostgresDatabase`: the seam's `Database` for PostgreSQL code with no server to ask.

Used when the project says `dialect = "postgres"` and has migrations but names no server, and
by `PostgresDatabase` while its server cannot be reached: the migrations' schema is read by
pglast (offline_schema.py) and statements are judged by pglast and that schema
(offline_judge.py). There is no live database: nothing to read, plan or change.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.analysis.migrations import MigrationResult
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.database import Integrity, SchemaError
from dbheal_lsp.databases.postgres.offline_judge import OfflineJudge
from dbheal_lsp.model import Origin

if TYPE_CHECKING:
    from dbheal_lsp.databases.database import Database

__all__ = ["OfflinePostgresDatabase", "pglast_available"]

_NO_SERVER = "not available without a PostgreSQL server"


def pglast_available() -> bool:
    """Return whether pglast can be imported (the `postgres` extra installs it)."""
    try:
        import pglast  # noqa: F401
    except ImportError:
        return False
    return True


class OfflinePostgresDatabase:
    """PostgreSQL without a server (see module docstring)."""

    def __init__(self, *, migrations_root: Path | None = None) -> None:
        self.migrations_root = migrations_root

    @property
    def has_live(self) -> bool:
        """No live database."""
        return False

    def live_schema(self) -> Schema:
        """There is no live schema: an empty one."""
        return Schema.empty("database")

    def live_key(self) -> str | None:
        """No live database: ""."""
        return ""

    def schema_counter(self, *, busy_timeout: float) -> int:
        """No live database: its schema never changes."""
        return 0

    def integrity(self, *, full: bool, busy_timeout: float, max_rows: int) -> Integrity:
        """No live database to check: raise SchemaError saying so."""
        raise SchemaError(f"the integrity check is {_NO_SERVER}")

    def migrations(self, folder: Path) -> MigrationResult:
        """Return the schema the migrations of `folder` define, read by pglast."""
        from dbheal_lsp.databases.postgres.offline_schema import offline_migrations

        return offline_migrations(folder, self.migrations_root)

    def schema_from_ddl(self, statements: Sequence[tuple[str, Origin]]) -> Schema:
        """Return the schema (source "code") that DDL found in code builds, read by pglast."""
        from dbheal_lsp.databases.postgres.offline_schema import offline_schema_from_ddl

        return offline_schema_from_ddl(statements)

    def judge(self, schema: Schema) -> OfflineJudge:
        """Return pglast's judge over `schema`."""
        return OfflineJudge(schema)

    def write_lock_free(self, *, wait: float) -> bool:
        """No database to change: raise SchemaError saying so."""
        raise SchemaError(f"changing the database is {_NO_SERVER}")

    def other(self, path: Path) -> Database:
        """Return the back end of another database file of the project (a SQLite file)."""
        from dbheal_lsp.databases import open_database_file

        return open_database_file(path)

    def close(self) -> None:
        """Nothing to close."""
