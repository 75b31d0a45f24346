"""One schema plan run under the database's lock, its backup taken before it commits.

A type change rebuilds a whole table; with a page cache that holds the rebuild, its backup can
run in a thread beside it (on the other core) instead of before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dbheal_lsp.databases.schema_fixes import FixTransaction, schema_fixes_for
from dbheal_lsp.model import MigrationPlan, VerifyCheck, VerifyReport

if TYPE_CHECKING:
    from dbheal_lsp.fixes.apply import ApplyOutcome

Check = Callable[[FixTransaction], VerifyReport]


def run_backed_up(
    database: Path,
    plan: MigrationPlan,
    backup_dir: Path,
    reanalysis: Callable[[], Check],
    *,
    root: Path,
    on_lossy: str,
    full_integrity: bool,
    lock_timeout: float,
) -> ApplyOutcome:
    """Run `plan` on `database` under its lock, backed up into `backup_dir` before it commits.

    `reanalysis` is called under the lock, before the transaction begins; the check it returns
    is the transaction's last. Once applied, the database as the fix left it is remembered
    beside the backup. Raise LockTimeout, BackupError, OSError or the database's error
    (`DatabaseError`) when it cannot run (then nothing was changed).
    """
    from dbheal_lsp.backups import DATABASE_SUBDIR
    from dbheal_lsp.fixes.apply import apply_plan
    from dbheal_lsp.fixes.lock import database_lock

    fixes = schema_fixes_for(database)
    with database_lock(database, lock_timeout, root=root):
        check = reanalysis()
        cache_kib, beside = rebuild_cache(database, plan)
        with BackgroundBackup(
            lambda: fixes.backup(database, backup_dir / DATABASE_SUBDIR, tables=(plan.table,)),
            background=beside and fixes.backup_beside,
        ) as backup:
            outcome = apply_plan(
                database,
                plan,
                on_lossy=on_lossy,
                full_integrity=full_integrity,
                lock_timeout=lock_timeout,
                extra_check=backup.then(check),
                cache_kib=cache_kib,
            )
        if outcome.applied:
            # What the database is right after the fix: a rollback restores the backup only
            # while it is still exactly this (databases/sqlite/fingerprint.py).
            fixes.remember_after_fix(database, backup_dir, timeout=lock_timeout)
    return outcome


# A type change rebuilds the whole table. Its connection gets a page cache that holds the
# rebuild's pages, up to this much: SQLite's default 2 MB makes a copy into a table with a TEXT
# key or a UNIQUE column (indexes filled in random order) spill again and again. When the
# rebuild fits, the backup is also taken beside it (on the other core): in rollback-journal
# mode a writer that spills pages to the file must wait for every reader, the backup included,
# and with its pages in memory it writes only at COMMIT, after the backup has finished.
_REBUILD_CACHE_LIMIT = 512 * 1024 * 1024


def rebuild_cache(database: Path, plan: MigrationPlan) -> tuple[int, bool]:
    """Return the page cache (KiB, 0: SQLite's default) for `plan`, and whether it holds the
    whole rebuild (then the backup runs beside it)."""
    if plan.kind != "change_type":
        return 0, False  # small changes: nothing to gain
    try:
        size = database.stat().st_size
        wal = Path(f"{database}-wal")
        size += wal.stat().st_size if wal.exists() else 0
    except OSError:
        return 0, False
    # The rebuild dirties about the table and its indexes again; the whole file is an upper
    # bound of that, and the margin covers the schema and freelist pages.
    needed = size * 3 // 2 + 32 * 1024 * 1024
    return min(needed, _REBUILD_CACHE_LIMIT) // 1024, needed <= _REBUILD_CACHE_LIMIT


class BackgroundBackup:
    """Take the database backup in a thread while the fix's transaction runs, or before it.

    The transaction must not commit without its backup: `then(check)` returns the executor's
    last check inside the transaction, which waits for the backup and fails (rolling the fix
    back) if it failed. In WAL mode the backup reads the last committed state whatever the
    fix's transaction does; in rollback-journal mode the executor keeps its pages in memory
    until COMMIT (a large page cache), so its transaction never needs the backup's read lock.
    """

    def __init__(self, take: Callable[[], object], *, background: bool) -> None:
        self._take = take
        self._error: BaseException | None = None
        self._thread = (
            threading.Thread(target=self._run, name="dbheal-backup", daemon=True)
            if background
            else None
        )

    def _run(self) -> None:
        try:
            self._take()
        except BaseException as exc:  # reported by `wait`, in the caller's thread
            self._error = exc

    def __enter__(self) -> BackgroundBackup:
        if self._thread is None:
            self._take()  # in turn: errors propagate as they always did
        else:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Never leave the thread writing into a folder the caller is about to remove.
        if self._thread is not None:
            self._thread.join()

    def wait(self) -> VerifyCheck:
        """Wait for the backup; return whether it was taken."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            return VerifyCheck("backup", False, f"no backup, so no fix: {self._error}")
        when = "beside the rebuild, before its commit" if self._thread else "before the fix"
        return VerifyCheck("backup", True, f"taken {when}")

    def then(self, check: Check) -> Check:
        """Return `check` preceded by waiting for the backup (run inside the transaction)."""

        def gate(tx: FixTransaction) -> VerifyReport:
            taken = self.wait()
            if not taken.ok:
                return VerifyReport((taken,))
            return VerifyReport((taken, *check(tx).checks))

        return gate
