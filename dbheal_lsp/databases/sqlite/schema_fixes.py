"""SQLite's schema fixes: the `SchemaFixes` back end (`databases/schema_fixes.py`) of a
SQLite file, made of the modules beside it (plans, rebuild, lossless, copy_check, verify,
backup, fingerprint, inverse) and its transaction (`transaction.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.sqlite import errors, fingerprint
from dbheal_lsp.databases.sqlite.inverse import Inverse, inverse_plan
from dbheal_lsp.databases.sqlite.live_db import open_read_only
from dbheal_lsp.databases.sqlite.transaction import SqliteTransaction, open_for_fix, schema_copy
from dbheal_lsp.model import LossyReport, MigrationPlan

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.schema import Schema
    from dbheal_lsp.model import Issue

__all__ = ["SqliteSchemaFixes"]


class SqliteSchemaFixes:
    """The schema fixes of a SQLite database file (see the module docstring)."""

    #: SQLite's online backup may run beside the fix's transaction (fixes/schema_run.py).
    backup_beside = True
    #: A backup is the whole file: `restore` puts it back.
    restores_backup = True

    def shown(self, database: Path) -> str | None:
        """None: a SQLite database is named by its file's path."""
        return None

    def plans_for(
        self,
        database: Path,
        issue: Issue,
        live: Schema,
        migrations: MigrationResult | None,
    ) -> tuple[MigrationPlan, ...]:
        """The schema fixes of `issue`, planned against the file read-only."""
        from dbheal_lsp.databases.sqlite.plans import plans_for

        conn = open_read_only(database)
        try:
            return plans_for(issue, conn, live, migrations)
        finally:
            conn.close()

    def schema_version(self, database: Path) -> int:
        """``PRAGMA schema_version`` of the file (SchemaError, in one line, when unreadable)."""
        conn = open_read_only(database)
        try:
            return int(conn.execute("PRAGMA schema_version").fetchone()[0])
        except sqlite3.Error as exc:
            raise SchemaError(f"cannot read {database}: {exc}") from None
        finally:
            conn.close()

    def lossy_report(self, database: Path, plan: MigrationPlan) -> LossyReport:
        """The values of the plan's column that would not convert losslessly, read now."""
        from dbheal_lsp.databases.sqlite.lossless import lossy_report

        conn = open_read_only(database)
        try:
            return lossy_report(conn, plan.table, plan.column or "", plan.new_type or "")
        finally:
            conn.close()

    def write_problem(self, database: Path) -> str | None:
        """Why the file cannot be changed (missing, a folder, read-only), or None."""
        return errors.file_problem(database)

    def error_message(self, exc: Exception, database: Path) -> str:
        """SQLite's error as a sentence: locked, read-only, or SQLite's own words."""
        if isinstance(exc, sqlite3.Error):
            return errors.connection_error(exc, database)
        return f"cannot use database {database}: {exc}"

    def blocks(self, exc: Exception) -> bool:
        """Whether `exc` says the file is locked or read-only."""
        return isinstance(exc, sqlite3.Error) and (errors.is_busy(exc) or errors.is_read_only(exc))

    def open_for_fix(
        self, database: Path, *, lock_timeout: float, cache_kib: int, foreign_keys_off: bool
    ) -> SqliteTransaction:
        """The file opened for a fix (`transaction.open_for_fix`)."""
        return open_for_fix(
            database,
            lock_timeout=lock_timeout,
            cache_kib=cache_kib,
            foreign_keys_off=foreign_keys_off,
        )

    def schema_copy(self, database: Path, lock_timeout: float) -> tuple[SqliteTransaction, int]:
        """An in-memory copy of the file's schema (`transaction.schema_copy`)."""
        return schema_copy(database, lock_timeout)

    def backup(
        self, database: Path, folder: Path, *, timeout: float = 5.0, tables: Sequence[str] = ()
    ) -> Path:
        """SQLite's online backup of the whole file into `folder`, checked."""
        from dbheal_lsp.databases.sqlite.backup import backup_database

        return backup_database(database, folder, timeout=timeout)

    def restore(self, copy: Path, database: Path, *, timeout: float) -> None:
        """The backup `copy` put back over the file."""
        from dbheal_lsp.databases.sqlite.backup import restore_database

        restore_database(copy, database, timeout=timeout)

    def remember_after_fix(self, database: Path, folder: Path, *, timeout: float) -> None:
        """The file's fingerprint as the fix left it, stored in `folder`."""
        fingerprint.remember_after_fix(database, folder, timeout=timeout)

    def stored_fingerprint(self, folder: Path) -> str | None:
        """The fingerprint stored in the fix's backup `folder`."""
        return fingerprint.stored_fingerprint(folder)

    def fingerprint(self, database: Path, *, timeout: float) -> str:
        """The sha256 of the file (and its -wal) after a checkpoint."""
        return fingerprint.database_fingerprint(database, timeout=timeout)

    def losses(self, copy: Path, database: Path) -> tuple[str, str]:
        """What restoring `copy` would drop, row by row, in words (before and once done)."""
        found = fingerprint.rows_lost(copy, database)
        return fingerprint.describe_loss(found), fingerprint.describe_loss(found, done=True)

    def summary(self, database: Path) -> dict[str, tuple[str, int]]:
        """The schema text and row count of each object of the file."""
        return fingerprint.database_summary(database)

    def inverse(
        self, database: Path, copy: Path, plans: Sequence[MigrationPlan], *, fix_id: str
    ) -> Inverse:
        """The inverse of the fix, planned on the file (read-write, so that SQLite removes
        the -wal and -shm files it made when it closes) and its backup (read-only)."""
        conn = _open(database, "rw")
        try:
            before = _open(copy, "ro")
            try:
                return inverse_plan(conn, plans, fix_id=fix_id, before=before)
            finally:
                before.close()
        finally:
            conn.close()


def _open(path: Path, mode: str) -> sqlite3.Connection:
    # mode=rw, not ro, for the live file: it never creates the file, and unlike a read-only
    # connection it removes the -wal and -shm files it made when it closes.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True)
