"""One heal: the database's locks, one transaction (or a savepoint inside the application's),
the plan run by `fixes.apply.run_steps`, the check that what was missing exists, and the
loop window.

The runtime's differences from `apply_plan` (docs/runtime.md): no backup is taken (a heal
only adds, from statements already in the migrations), and the heal runs on the application's
own connection, in a savepoint when the application is inside a transaction, so that its unit
of work is neither committed early nor lost.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

from dbheal_lsp.runtime.missing import NotHealed, Problem, Target
from dbheal_lsp.runtime.process import log, state

if TYPE_CHECKING:
    from dbheal_lsp.analysis.migrations import MigrationResult
    from dbheal_lsp.runtime.incident import Incident

__all__ = ["HEAL_WINDOW_SECONDS", "LOCK_TIMEOUT_SECONDS", "Heal"]

#: A table (or column) healed this many seconds ago that is missing again is not healed again.
HEAL_WINDOW_SECONDS = 60.0
#: How long a heal waits for the database's dbheal lock before giving up (the error is raised).
LOCK_TIMEOUT_SECONDS = 10.0


class Heal:
    """The heal of one problem of an incident (which records what it did)."""

    def __init__(self, incident: Incident) -> None:
        self.incident = incident
        self.conn = incident.conn

    def run(self, problem: Problem, migrations: MigrationResult) -> Target:
        """Heal `problem` under the database's lock and record it; raise NotHealed."""
        from contextlib import ExitStack

        from dbheal_lsp.fixes.lock import LockTimeout, database_lock

        key, path = self.incident.database()
        with ExitStack() as stack:
            stack.enter_context(state.heal_lock(key))
            if path is not None:
                root = self.incident.root
                try:
                    stack.enter_context(database_lock(path, LOCK_TIMEOUT_SECONDS, root=root))
                except LockTimeout as exc:
                    raise NotHealed(f"failed: {exc}") from None
                except OSError as exc:
                    # A read-only project: no lock file. SQLite's write lock and the check for
                    # the table inside the transaction still keep two healers apart.
                    log().debug("dbheal: heal without the lock file: %s", exc)
            return self.locked(problem, migrations, key)

    def locked(self, problem: Problem, migrations: MigrationResult, key: str) -> Target:
        """Heal `problem` in one transaction, the locks held; `key` names the database. The
        plan runs through the one executor (`run_steps`); the heal's own check is that what was
        missing exists now."""
        from dbheal_lsp.fixes.apply import run_steps

        in_transaction = self.conn.in_transaction
        cursor = sqlite3.Cursor(self.conn)
        try:
            cursor.execute("SAVEPOINT dbheal_runtime" if in_transaction else "BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise NotHealed(f"failed: cannot start the heal's transaction: {exc}") from None
        try:
            target = self.incident.target(problem, migrations)
            if target.plan is None:
                self.finish(cursor, in_transaction, commit=True)
                self.incident.record(
                    "none",
                    f"healed by another connection: the {target.kind} exists now; retried",
                    target.table,
                )
                return target
            refusal = self.recently_healed(key, target)
            if refusal is not None:
                self.finish(cursor, in_transaction, commit=False)
                raise NotHealed(refusal, f"{target.action} refused")
            plain = cast("sqlite3.Connection", self.incident.plain)
            run_steps(plain, target.plan, lambda conn: _verify(conn, target))
        except NotHealed:
            self.finish(cursor, in_transaction, commit=False)
            raise
        except Exception as exc:
            self.finish(cursor, in_transaction, commit=False)
            raise NotHealed(f"failed: {exc}; nothing was changed", "none") from None
        self.commit(cursor, in_transaction)
        state.mark_healed(key, target.key)
        outcome = "healed"
        if in_transaction:
            outcome = (
                "healed inside the application's open transaction (a savepoint): it is kept "
                "when the application commits"
            )
        self.incident.record(target.describe(), outcome, target.table)
        return target

    def commit(self, cursor: sqlite3.Cursor, in_transaction: bool) -> None:
        """Commit the heal (release its savepoint); roll it back and raise if that fails."""
        try:
            self.finish(cursor, in_transaction, commit=True)
        except sqlite3.Error as exc:
            self.finish(cursor, in_transaction, commit=False)
            raise NotHealed(f"failed: cannot commit: {exc}; nothing was changed") from None

    def finish(self, cursor: sqlite3.Cursor, in_transaction: bool, *, commit: bool) -> None:
        """End the heal's transaction (or savepoint in the application's transaction). A
        commit that fails raises; a rollback that fails is logged (there is nothing left to
        undo then)."""
        try:
            if in_transaction:
                if not self.conn.in_transaction:
                    log().error("dbheal: SQLite rolled back the application's transaction")
                    return
                if not commit:
                    cursor.execute("ROLLBACK TO dbheal_runtime")
                cursor.execute("RELEASE dbheal_runtime")
            elif self.conn.in_transaction:
                cursor.execute("COMMIT" if commit else "ROLLBACK")
        except sqlite3.Error:
            if commit:
                raise
            log().exception("dbheal: cannot roll the heal back")

    def recently_healed(self, key: str, target: Target) -> str | None:
        """Return why `target` is not healed again (the loop window), or None."""
        window = HEAL_WINDOW_SECONDS
        at = state.healed_at(key, target.key)
        if at is not None and time.monotonic() - at < window:
            ago = time.monotonic() - at
            return (
                f"not healed: healed {ago:.0f} s ago in this process and missing again; loop "
                f"prevention (window {window:g} s)"
            )
        if key.startswith("connection:"):
            return None  # a private database: no other process can have healed it
        when = _healed_in_state(self.incident.root, target, window)
        if when is not None:
            return (
                f"not healed: healed at {when} (by another process) and missing again; loop "
                f"prevention (window {window:g} s)"
            )
        return None


def _verify(conn: sqlite3.Connection, target: Target) -> None:
    """The heal must have made what was missing, or it is rolled back."""
    rows = conn.execute(
        "SELECT count(*) FROM pragma_table_xinfo(?1, 'main') WHERE ?2 IS NULL OR name = ?2 "
        "COLLATE NOCASE",
        (target.table, target.column),
    ).fetchone()
    if not rows or not rows[0]:
        raise NotHealed(f"failed: the migration's statements did not create {target.key}")


def _healed_in_state(root: Path, target: Target, window: float) -> str | None:
    """Return when the state file last recorded a heal of `target` within `window` seconds."""
    from datetime import datetime, timedelta, timezone
    from urllib.parse import quote

    path = root / ".dbheal" / "state.sqlite"
    if not path.is_file():
        return None
    since = (datetime.now(timezone.utc) - timedelta(seconds=window)).isoformat(
        timespec="microseconds"
    )
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute(
            "SELECT max(time) FROM events WHERE time >= ? AND outcome LIKE 'healed%' "
            "AND (action = ? OR action LIKE ? ESCAPE '\\')",
            (since, target.action, _like_prefix(target.action + " ")),
        ).fetchone()
    except sqlite3.Error as exc:
        log().debug("dbheal: cannot read the heals of %s: %s", path, exc)
        return None
    finally:
        conn.close()
    return str(row[0]) if row and row[0] else None


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
