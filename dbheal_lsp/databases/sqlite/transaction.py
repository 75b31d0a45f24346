"""A schema fix's transaction on SQLite: the file opened for writing (or an empty in-memory
copy of its schema, for a dry run), ``BEGIN IMMEDIATE``, the checks read on the same
connection, and COMMIT or ROLLBACK.

`SqliteTransaction` is SQLite's `FixTransaction` (`databases/schema_fixes.py`): the executor
(`fixes/apply.py`) runs a plan's steps and checks through it and never sees the connection.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases import schema_fixes
from dbheal_lsp.databases.schema_fixes import CopyComparison, RewrittenValues
from dbheal_lsp.databases.sqlite import rebuild, verify
from dbheal_lsp.databases.sqlite.catalog import schema_from_connection
from dbheal_lsp.databases.sqlite.copy_check import compare_copy, rewritten_values
from dbheal_lsp.databases.sqlite.lossless import lossy_report
from dbheal_lsp.model import LossyReport, MigrationPlan, VerifyCheck

__all__ = ["SqliteTransaction", "connection_of", "open_for_fix", "schema_copy"]


def _schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA schema_version").fetchone()[0])


class SqliteTransaction:
    """One connection to a SQLite database, for one schema fix (see the module docstring).

    `begin_sql` begins its transaction (``BEGIN IMMEDIATE`` on a file: the write lock is
    taken before the schema version is read); `foreign_keys_on` is set when the connection
    turned foreign keys off for the plan, to turn them on again before it closes.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        begin_sql: str = "BEGIN IMMEDIATE",
        foreign_keys_on: bool = False,
    ) -> None:
        self.connection = conn
        self._begin_sql = begin_sql
        self._foreign_keys_on = foreign_keys_on

    def execute(self, sql: str, /) -> sqlite3.Cursor:
        """Run one statement of a plan."""
        return self.connection.execute(sql)

    def begin(self) -> int:
        """Begin the transaction; return the schema version read inside it."""
        self.connection.execute(self._begin_sql)
        return _schema_version(self.connection)

    def schema_version(self) -> int:
        """The schema version as this transaction sees it."""
        return _schema_version(self.connection)

    def commit(self) -> None:
        """COMMIT (raises sqlite3.Error when a reader keeps the lock past the timeout)."""
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        """ROLLBACK, if a transaction is open."""
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def close(self) -> None:
        """Never leave a transaction open, whatever was raised; foreign keys back on; close."""
        try:
            self.rollback()
            if self._foreign_keys_on:
                self.connection.execute("PRAGMA foreign_keys=ON")
        finally:
            self.connection.close()

    def schema(self) -> Schema:
        """The schema as this transaction sees it."""
        return schema_from_connection(self.connection, "database")

    def integrity(self, plan: MigrationPlan, full: bool) -> VerifyCheck:
        """quick_check of the plan's table (integrity_check of the file when `full`)."""
        return verify.integrity(self.connection, plan, full)

    def foreign_keys(self, plan: MigrationPlan) -> VerifyCheck:
        """foreign_key_check of the tables whose keys the plan can have broken."""
        return verify.foreign_keys(self.connection, plan)

    def prepares(self, plan: MigrationPlan) -> list[VerifyCheck]:
        """Every query of the plan prepares."""
        return verify.prepares(self.connection, plan)

    def index_names(self) -> set[str]:
        """The database's indexes, lower-cased."""
        return verify.index_names(self.connection)

    def index_used(self, plan: MigrationPlan, before: set[str]) -> list[VerifyCheck]:
        """A new index exists and the plan's queries use it."""
        return verify.index_used(self.connection, plan, before)

    def lossy_mode(self, plan: MigrationPlan) -> str:
        """What the plan's copy step does with lossy values."""
        return rebuild.lossy_mode(plan)

    def lossy_report(self, plan: MigrationPlan) -> LossyReport:
        """The values of the plan's column that would not convert losslessly."""
        return lossy_report(self.connection, plan.table, plan.column or "", plan.new_type or "")

    def compare_copy(self, plan: MigrationPlan) -> CopyComparison:
        """The rebuilt table's copy compared with the table, row by row."""
        return compare_copy(self.connection, plan)

    def rewritten_values(self, plan: MigrationPlan, limit: int) -> RewrittenValues:
        """The lossy values the copy did not keep as they were."""
        return rewritten_values(self.connection, plan, limit=limit)

    def change_type_plan(self, plan: MigrationPlan, on_lossy: str) -> MigrationPlan:
        """The type change made again, inside this transaction, for `on_lossy`."""
        return rebuild.change_type_plan(
            self.connection,
            plan.table,
            plan.column or "",
            plan.new_type or "",
            on_lossy=on_lossy,
            issue_fingerprint=plan.issue_fingerprint,
            check_sql=plan.check_sql,
        )


def connection_of(transaction: schema_fixes.FixTransaction) -> sqlite3.Connection:
    """The SQLite connection of one of this back end's transactions (for the back end's own
    checks, which the executor passes back to it: the inverse's)."""
    if not isinstance(transaction, SqliteTransaction):
        raise TypeError(f"not a SQLite transaction: {type(transaction).__name__}")
    return transaction.connection


def open_for_fix(
    path: Path, *, lock_timeout: float, cache_kib: int = 0, foreign_keys_off: bool = False
) -> SqliteTransaction:
    """Open the SQLite file at `path` for a fix: busy timeout `lock_timeout`, a page cache of
    `cache_kib` KiB (0: SQLite's default), foreign keys off when the plan asks for it (only
    outside a transaction does that pragma take effect). Raises sqlite3.Error."""
    conn = sqlite3.connect(os.fspath(path), timeout=lock_timeout, isolation_level=None)
    try:
        if cache_kib > 0:
            conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        foreign_keys = int(conn.execute("PRAGMA foreign_keys").fetchone()[0])
        turn_off = foreign_keys_off and bool(foreign_keys)
        if turn_off:
            conn.execute("PRAGMA foreign_keys=OFF")
    except BaseException:
        conn.close()
        raise
    return SqliteTransaction(conn, foreign_keys_on=turn_off)


def schema_copy(db_path: Path, lock_timeout: float) -> tuple[SqliteTransaction, int]:
    """Return an in-memory database with the schema of the file at `db_path`, and its version.

    Only the ``CREATE`` texts of ``sqlite_master`` are run, in their order; one that fails
    (it names an object made later) is tried again after the others, and one that never
    succeeds (a virtual table of a module this SQLite lacks, its shadow tables) is left out:
    a plan that needs it then fails in the copy, which is what the dry run is for. Raises
    SchemaError when the file cannot be opened, sqlite3.Error when it cannot be read.
    """
    from dbheal_lsp.databases.sqlite.live_db import open_read_only

    source = open_read_only(db_path, busy_timeout=lock_timeout)
    try:
        # One read transaction: the version and the texts agree.
        source.execute("BEGIN")
        version = _schema_version(source)
        texts = [
            str(row[0])
            for row in source.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
            )
        ]
        source.execute("ROLLBACK")
    finally:
        source.close()
    # The texts come from a file that may not be the user's own: they run in the analysis
    # sandbox (no other file is reached, a budget holds), which lets the plan's own steps set
    # the foreign-key switch as the real run does.
    from dbheal_lsp.databases.sqlite.sandbox import BEHAVIOUR_PRAGMAS, first_keyword, open_sandbox

    copy = open_sandbox(settings=BEHAVIOUR_PRAGMAS)
    pending = [t for t in texts if first_keyword(t) == "CREATE"]
    while pending:
        failed: list[str] = []
        for sql in pending:
            try:
                copy.run(sql)
            except sqlite3.Error:
                failed.append(sql)
        if len(failed) == len(pending):
            break
        pending = failed
    return SqliteTransaction(copy, begin_sql="BEGIN"), version
