"""`SqliteDatabase`: the seam's `Database` (databases/database.py) for a SQLite project.

It delegates to the modules beside it: the live schema to `LiveDatabase` (live_db.py), its
cheap key to `master_digest`, the migrations to `MigrationCache` (migration_cache.py) and the DDL
found in code to `schema_from_ddl` (replay.py), a statement's judge to `open_judge` (judge.py); the integrity
check is SQLite's own `quick_check`/`integrity_check` and `foreign_key_check`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from dbheal_lsp.analysis.migrations import MigrationResult
from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.database import ForeignKeyViolation, Integrity, SchemaError
from dbheal_lsp.databases.sqlite.judge import SqliteJudge, open_judge
from dbheal_lsp.databases.sqlite.live_db import LiveDatabase, master_digest, open_read_only
from dbheal_lsp.databases.sqlite.migration_cache import MigrationCache
from dbheal_lsp.databases.sqlite.replay import schema_from_ddl
from dbheal_lsp.model import Origin

__all__ = ["SqliteDatabase"]


class SqliteDatabase:
    """A project's SQLite database (`path`, None when it has none) and its analysis services.

    `migrations_root`: migration files that link out of this folder are not read. Safe to share
    between threads (the language server checks from several).
    """

    def __init__(
        self, path: str | os.PathLike[str] | None, *, migrations_root: Path | None = None
    ) -> None:
        self.path = None if path is None else Path(path)
        self.live = LiveDatabase(self.path) if self.path is not None else None
        self.migration_cache = MigrationCache(migrations_root)

    @property
    def has_live(self) -> bool:
        """Whether the project names a live database."""
        return self.live is not None

    def live_schema(self) -> Schema:
        """Return the live schema (re-read only when it changed), or raise SchemaError."""
        if self.live is None:
            raise SchemaError("no database is configured")
        return self.live.schema()

    def live_key(self) -> str | None:
        """Return a digest of the live `sqlite_master` ("" without a live database), read on a
        connection of its own; None when it cannot be read (the full read then says why)."""
        if self.live is None:
            return ""
        try:
            conn = open_read_only(self.live.path)
            try:
                return master_digest(conn)
            finally:
                conn.close()
        except (OSError, sqlite3.Error, SchemaError):
            return None

    def schema_counter(self, *, busy_timeout: float) -> int:
        """Return `PRAGMA schema_version`, read on a read-only connection of its own."""
        if self.path is None:
            raise SchemaError("no database is configured")
        conn = open_read_only(self.path, busy_timeout=busy_timeout)
        try:
            return int(conn.execute("PRAGMA schema_version").fetchone()[0])
        finally:
            conn.close()

    def integrity(self, *, full: bool, busy_timeout: float, max_rows: int) -> Integrity:
        """Run `quick_check` (`integrity_check` when `full`) and `foreign_key_check` in one read
        transaction, waiting at most `busy_timeout` seconds for a lock; keep `max_rows` rows."""
        if self.path is None:
            raise SchemaError("no database is configured")
        conn = open_read_only(self.path, busy_timeout=busy_timeout)
        try:
            return _integrity(conn, "integrity_check" if full else "quick_check", max_rows)
        finally:
            conn.close()

    def migrations(self, folder: Path) -> MigrationResult:
        """Return the replayed migrations of `folder`, from the cache when nothing changed."""
        return self.migration_cache.get(folder)

    def schema_from_ddl(self, statements: Sequence[tuple[str, Origin]]) -> Schema:
        """Return the schema (source "code") that DDL found in code builds."""
        return schema_from_ddl(statements)

    def judge(self, schema: Schema) -> SqliteJudge:
        """Return a judge over a new in-memory copy of `schema`, usable from any thread."""
        return open_judge(schema, check_same_thread=False)

    def other(self, path: Path) -> SqliteDatabase:
        """Return the back end of another SQLite file of the project."""
        return SqliteDatabase(path)

    def write_lock_free(self, *, wait: float) -> bool:
        """Take and release the write lock and read the schema (nothing is changed), waiting up
        to `wait` seconds; False when another connection holds it that long. Raise SchemaError
        when the file cannot be opened, `DatabaseError` when it refuses (corrupt, read-only)."""
        if self.path is None:
            raise SchemaError("no database is configured")
        return _write_lock_free(self.path, wait)

    def close(self) -> None:
        """Close the cached read-only connection to the live database."""
        if self.live is not None:
            self.live.close()


def _integrity(conn: sqlite3.Connection, pragma: str, max_rows: int) -> Integrity:
    # One read transaction: both checks see the same state of the file.
    conn.execute("BEGIN")
    lines = _integrity_lines(conn.execute(f"PRAGMA {pragma}({max_rows})").fetchall(), max_rows)
    violations: list[ForeignKeyViolation] = []
    violation_count = 0
    for row in conn.execute("PRAGMA foreign_key_check"):
        violation_count += 1
        if len(violations) < max_rows:
            violations.append(
                ForeignKeyViolation(
                    str(row[0]),
                    None if row[1] is None else int(row[1]),
                    str(row[2]),
                    int(row[3]),
                )
            )
    conn.execute("ROLLBACK")
    return Integrity(lines, tuple(violations), violation_count)


def _integrity_lines(rows: list[tuple[object, ...]], max_rows: int) -> tuple[str, ...]:
    # Some SQLite builds return all problems as one row of lines, others one row each.
    lines = [
        line.strip()
        for row in rows
        for line in str(row[0]).splitlines()
        if line.strip() and not line.startswith("*** in database")
    ]
    return tuple(lines[:max_rows])


def _write_lock_free(path: Path, wait: float) -> bool:
    """Take and release the write lock on `path` and read its schema, waiting up to `wait`
    seconds; False when another connection holds the lock that long."""
    try:
        conn = sqlite3.connect(os.fspath(path), timeout=wait, isolation_level=None)
    except sqlite3.Error as exc:
        raise SchemaError(str(exc)) from None
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return False
        raise
    finally:
        conn.close()
    return True
