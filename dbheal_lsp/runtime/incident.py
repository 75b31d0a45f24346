"""One OperationalError of one call: what is missing, heal it (and the rest the statement
needs), record the event, and say what to run again.

Importing this module imports only the standard library; the migrations, the state file and
the lock are imported on the first error.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from dbheal_lsp.runtime.callsite import app_frame, app_frames, location
from dbheal_lsp.runtime.missing import (
    NotHealed,
    Problem,
    Target,
    check_defined,
    find_target,
    problem_of,
)
from dbheal_lsp.runtime.modes import Settings, resolve_mode
from dbheal_lsp.runtime.process import log, state
from dbheal_lsp.runtime.transaction import Heal

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.analysis.schema import Schema

__all__ = [
    "EXECUTE",
    "EXECUTEMANY",
    "EXECUTESCRIPT",
    "MAX_HEALS_PER_CALL",
    "MAX_RECORDED_SQL",
    "Incident",
    "record_failed_retry",
]

#: At most this many further missing tables or columns of the same statement are healed before
#: its one retry (a join of two tables that a migration added, say).
MAX_HEALS_PER_CALL = 8
#: Statements longer than this are cut in the recorded event.
MAX_RECORDED_SQL = 10_000

# How the failed call ran its SQL.
EXECUTE = "execute"
EXECUTEMANY = "executemany"
EXECUTESCRIPT = "executescript"

_FIRST_WORD = r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*([A-Za-z]*)"


class PlainConnection:
    """The app's connection seen through plain cursors: no row factory, no healing wrapper."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        """Run `sql` on a new plain sqlite3 cursor of the connection."""
        return sqlite3.Cursor(self.conn).execute(sql, parameters)


class _TextAsStr:
    """Names must come back as str whatever text_factory the application set: for the `with`
    block, the connection's text_factory is str."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.saved: Any = None

    def __enter__(self) -> None:
        self.saved = self.conn.text_factory
        if self.saved is not str:
            self.conn.text_factory = str

    def __exit__(self, *exc_info: object) -> None:
        if self.saved is not str:
            self.conn.text_factory = self.saved


class Incident:
    """One error of one call: find what is missing, heal it, record it."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        settings: Settings,
        exc: sqlite3.OperationalError,
        how: str,
        sql: str,
        parameters: object,
    ) -> None:
        self.conn = conn
        self.plain = PlainConnection(conn)
        self.settings = settings
        self.message = str(exc)
        self.how = how
        self.sql = sql
        self.parameters = parameters
        frames = app_frames()
        guess = app_frame(frames)
        self.root = settings.project_root(guess[0] if guess else None)
        self.where = app_frame(frames, self.root)
        self._database: tuple[str, Path | None] | None = None

    # -- recording

    def record(
        self, action: str, outcome: str, table: str | None, error: str | None = None
    ) -> None:
        """Record the event in the project's state file and log it."""
        where = self.where
        state.record(
            self.root,
            error=error or self.message,
            statement=self.sql[:MAX_RECORDED_SQL],
            **location(self.root, where),
            action=action,
            outcome=outcome,
            table=table,
        )
        # A change to the schema, or a heal that failed, is worth a warning; an error that is
        # simply raised again (the application sees it anyway) is information.
        changed = outcome.startswith("healed") and action != "none"
        logger = log()
        emit = logger.warning if changed or outcome.startswith("failed") else logger.info
        emit(
            "dbheal: %s at %s: %s — %s",
            self.message,
            f"{where[0]}:{where[1]}" if where else "?",
            action,
            outcome,
        )

    # -- the flow

    def handle(self, problem: Problem) -> str | None:
        """Heal `problem` and return the SQL to run again, or record why not and return None."""
        table = problem.table
        try:
            folder = self.settings.migrations_folder(self.root)
            if folder is None:
                raise NotHealed(
                    "not healed: no migrations folder (pass migrations=, or set [tool.dbheal] "
                    f"migrations in {self.root / 'pyproject.toml'})"
                )
            migrations = state.migrations(folder)
            check_defined(problem, migrations)
            with _TextAsStr(self.conn):
                if self.settings.mode == "report":
                    self.report(problem, migrations)
                    return None
                again = self.sql
                if self.how == EXECUTESCRIPT:
                    again = self.rest_of_script()
                target = self.heal(problem, migrations)
                table = target.table
                if self.how != EXECUTESCRIPT:
                    self.heal_more(migrations, {target.key})
                return again
        except NotHealed as reason:
            outcome = reason.outcome
            if self.settings.mode == "report" and not outcome.startswith("reported"):
                outcome = f"reported (mode report); {outcome}"
            self.record(reason.action, outcome, table)
            return None

    def report(self, problem: Problem, migrations: MigrationResult) -> None:
        """Mode report: raise NotHealed saying what a heal would have done."""
        try:
            target = self.target(problem, migrations)
        except NotHealed as reason:
            raise NotHealed(f"reported (mode report); {reason.outcome}") from None
        if target.plan is None:
            raise NotHealed(f"reported (mode report); the {target.kind} exists now", "none")
        raise NotHealed("reported (mode report): not healed", f"would {target.describe()}")

    def heal(self, problem: Problem, migrations: MigrationResult) -> Target:
        """Heal one problem under the database's lock and record it; raise NotHealed."""
        return Heal(self).run(problem, migrations)

    def heal_more(self, migrations: MigrationResult, done: set[str]) -> None:
        """Heal the other missing tables or columns the statement needs, before its retry."""
        probe_parameters = self.parameters
        if self.how == EXECUTEMANY:
            rows = self.parameters
            if not isinstance(rows, (list, tuple)) or not rows:
                return
            probe_parameters = rows[0]
        first = re.match(_FIRST_WORD, self.sql, re.DOTALL)
        if first is None or first.group(1).upper() in ("", "EXPLAIN"):
            return
        for _ in range(MAX_HEALS_PER_CALL):
            try:
                self.plain.execute("EXPLAIN " + self.sql, cast("Any", probe_parameters))
                return
            except Exception as exc:
                problem = (
                    problem_of(str(exc)) if isinstance(exc, sqlite3.OperationalError) else None
                )
                if problem is None:
                    return
                self.message = str(exc)
                try:
                    check_defined(problem, migrations)
                    target = self.heal(problem, migrations)
                except NotHealed as reason:
                    # The retry raises this error (and records that it failed again).
                    self.record(reason.action, reason.outcome, problem.table)
                    return
                if target.key in done:
                    return
                done.add(target.key)

    # -- what is missing

    def live(self) -> Schema:
        """The schema of the connection's database now."""
        from dbheal_lsp.databases.sqlite.catalog import schema_from_connection

        return schema_from_connection(cast("sqlite3.Connection", self.plain), "database")

    def target(self, problem: Problem, migrations: MigrationResult) -> Target:
        """Return what to heal for `problem` in the database as it is now (see find_target)."""
        conn = cast("sqlite3.Connection", self.plain)
        return find_target(problem, migrations, self.live(), conn, self.sql, self.root)

    def database(self) -> tuple[str, Path | None]:
        """Return a key for the database (its file, or the connection for a private one) and
        its file (None for :memory: and temporary databases)."""
        if self._database is None:
            file = ""
            for row in self.plain.execute("PRAGMA database_list").fetchall():
                if row[1] == "main":
                    file = os.fsdecode(row[2] or "")
            if file:
                path = Path(file).resolve()
                self._database = (str(path), path)
            else:
                self._database = (f"connection:{id(self.conn)}", None)
        return self._database

    def rest_of_script(self) -> str:
        """Return the script from the statement that failed (the ones before it ran).

        That statement is the first one that SQLite now rejects with the same message (found
        with EXPLAIN, which prepares without running). A script that failed inside a
        transaction of its own is not run again: executescript would commit that first.
        """
        from dbheal_lsp.analysis.migration_files import split_statements

        statements = [sql for _, sql in split_statements(self.sql)]
        failed = None
        for n, statement in enumerate(statements):
            if statement.lstrip()[:6].upper() == "PRAGMA":
                continue  # some pragmas act while they are prepared
            try:
                self.plain.execute("EXPLAIN " + statement)
            except sqlite3.Error as exc:
                if str(exc) == self.message:
                    failed = n
                    break
        if failed is None:
            raise NotHealed("not healed: cannot tell which statement of the script failed")
        if failed and self.conn.in_transaction:
            raise NotHealed(
                "not healed: the script failed inside a transaction of its own, which "
                "running the rest again would commit"
            )
        if failed == 0:
            return self.sql
        return ";\n".join(statements[failed:]) + ";"


def record_failed_retry(settings: Settings | None, exc: sqlite3.OperationalError, sql: str) -> None:
    """Record that the one retry after a heal failed too (then the caller raises it)."""
    state.seen.add(exc)
    try:
        settings = settings or Settings(resolve_mode(None))
        frames = app_frames()
        guess = app_frame(frames)
        root = settings.project_root(guess[0] if guess else None)
        where = app_frame(frames, root)
        state.record(
            root,
            error=str(exc),
            statement=sql[:MAX_RECORDED_SQL],
            **location(root, where),
            action="retry",
            outcome="failed: the statement failed again after healing; not retried again",
            table=None,
        )
    except Exception:
        log().exception("dbheal: cannot record a failed retry")
