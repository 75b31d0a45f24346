"""The database back ends: each gives the schema, a verdict on a statement, and schema fixes.

Code above the seam reads `databases/database.py` (the `Database` and `Judge` protocols, the
values they answer with), gets the project's back end from `open_database`, and catches
`DatabaseError` (every back end's driver errors); only a back end (`databases/sqlite/`,
`databases/postgres/`) imports its driver.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.databases.database import Database, SchemaError
from dbheal_lsp.databases.postgres import DRIVER_ERRORS as _POSTGRES_ERRORS
from dbheal_lsp.databases.sqlite import DRIVER_ERRORS
from dbheal_lsp.databases.sqlite import complete_statement as _sqlite_complete

if TYPE_CHECKING:
    from dbheal_lsp.config import Config

__all__ = [
    "DatabaseError",
    "SchemaError",
    "complete_statement",
    "open_database",
    "open_database_file",
]

#: Every back end's driver errors, for `except DatabaseError:` above the seam.
DatabaseError: tuple[type[Exception], ...] = DRIVER_ERRORS + _POSTGRES_ERRORS


def complete_statement(text: str) -> bool:
    """Return whether `text` ends a whole SQL statement (its last `;` is outside strings,
    comments and a trigger body): where a script's statements end."""
    return _sqlite_complete(text)


def open_database(config: Config) -> Database:
    """Return the back end of the project's database: PostgreSQL when a server URL names it
    (`Config.database_url`); PostgreSQL without a server (pglast and the migrations) when the
    code is PostgreSQL's, with migrations and no database file; else SQLite."""
    # Imported here: the back end reads engine values (the schema model), which import this seam.
    from dbheal_lsp.databases.sqlite.database import SqliteDatabase
    from dbheal_lsp.files import is_inside

    # Migration files may not link out of the project, unless the user's own settings put the
    # folder itself outside it.
    confined = config.migrations is None or is_inside(config.migrations, config.root)
    if config.database_url is not None:
        from dbheal_lsp.databases.postgres.database import PostgresDatabase

        return PostgresDatabase(
            config.database_url, migrations_root=config.root if confined else None
        )
    if config.dialect == "postgres" and config.database is None and config.migrations:
        from dbheal_lsp.databases.postgres.offline import (
            OfflinePostgresDatabase,
            pglast_available,
        )

        if pglast_available():
            return OfflinePostgresDatabase(migrations_root=config.root if confined else None)
    return SqliteDatabase(config.database, migrations_root=config.root if confined else None)


def open_database_file(path: Path) -> Database:
    """Return the back end of the database file at `path` (one the project does not configure:
    the watcher's, another database the code opens)."""
    from dbheal_lsp.databases.sqlite.database import SqliteDatabase

    return SqliteDatabase(path)
