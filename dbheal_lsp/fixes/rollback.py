"""Rolling a fix back: what depends on it, what undoing it would do, and doing it.

A fix is rolled back once no later fix that is still applied touched any of the same database
or files: those are rolled back first, newest first.

A row once written is never lost by a rollback. The database is put back by the fix's inverse
change (`databases/sqlite/inverse.py`: DROP INDEX, DROP COLUMN, DROP TABLE of an empty table, the reverse
type change), run by the same executor as fixes, so rows the application wrote since stay; the
inverse is refused when it would delete data written since. Only a fix without an inverse is
undone by restoring its whole-file database backup, and only while the database is byte for byte
as the fix left it (`databases/sqlite/fingerprint.py`); otherwise the refusal names the rows a restore
would drop, and restoring anyway takes an explicit `restore_backup`. Files are put back from
their file backups; a file edited since the fix gets only the fix's edit reversed, the later
edits kept (`file_undo.py`), or the rollback is refused when they touched the fix's lines.
`plan_rollback` says all of this before anything runs.

A rollback is itself recorded as a fix (kind as the fix it undid, `rollback_of` set). It first
backs up the current state into its own backup folder: the way back to it, whatever happens.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from dbheal_lsp.backups import (
    FILES_SUBDIR,
    BackupError,
    database_backup_path,
    find_database_backup,
    restore_files,
)
from dbheal_lsp.codec import changes_from_json
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.schema_fixes import (
    InverseFix,
    InverseRefused,
    NoInverse,
    schema_fixes_for,
)
from dbheal_lsp.files import relative_path
from dbheal_lsp.fixes.apply import apply_plan
from dbheal_lsp.fixes.file_undo import file_steps, undo_edits
from dbheal_lsp.fixes.fix_backups import backup_fix
from dbheal_lsp.fixes.lock import LockTimeout, database_lock, files_lock
from dbheal_lsp.fixes.rollback_check import check_restored
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.model import MigrationPlan, VerifyCheck, VerifyReport
from dbheal_lsp.records import FixRecord, utc_now

DEFAULT_LOCK_TIMEOUT = 5.0
#: A database whose fingerprint cannot be read counts as changed since the fix.
_UNREADABLE: tuple[type[Exception], ...] = (OSError, *DatabaseError)


class RollbackError(Exception):
    """A rollback was refused or failed; the message says why and what to do."""


def _same_path(a: str, b: str) -> bool:
    return PurePosixPath(a.replace("\\", "/")) == PurePosixPath(b.replace("\\", "/"))


def _touches_same(first: FixRecord, second: FixRecord) -> bool:
    if first.database and second.database and _same_path(first.database, second.database):
        return True
    return any(_same_path(a, b) for a in first.files for b in second.files)


def dependents(store: StateStore, fix_id: str) -> list[FixRecord]:
    """Return the fixes recorded after fix `fix_id` that are still applied (not rolled back,
    not rollbacks themselves) and changed the same database or any of the same files, newest
    first: the order in which to roll them back. Raise KeyError for an unknown fix."""
    target = store.fix(fix_id)
    if target is None:
        raise KeyError(f"no fix {fix_id} in the history")
    later = [f for f in store.fixes_after(fix_id) if f.can_roll_back and _touches_same(target, f)]
    return list(reversed(later))


def _refusal(store: StateStore, root: Path, fix_id: str) -> tuple[FixRecord, str | None]:
    record = store.fix(fix_id)
    if record is None:
        raise RollbackError(f"cannot roll back {fix_id}: there is no such fix in the history")
    if record.rollback_of is not None:
        return record, (
            f"cannot roll back {fix_id}: it is itself the rollback of {record.rollback_of}; "
            "apply that fix again instead"
        )
    if record.outcome == "rolled_back":
        return (
            record,
            f"cannot roll back {fix_id}: it was already rolled back at {record.rolled_back_at}",
        )
    if record.outcome != "applied":
        return (
            record,
            f"cannot roll back {fix_id}: it was not applied (its outcome is {record.outcome})",
        )
    later = dependents(store, fix_id)
    if later:
        order = ", then ".join(f.id for f in later)
        return record, (
            f"cannot roll back {fix_id}: later fixes changed the same database or files; "
            f"roll back {order} first"
        )
    if not record.backup_dir or not (root / record.backup_dir).is_dir():
        return record, f"cannot roll back {fix_id}: its backup {record.backup_dir or ''} is gone"
    if record.database is not None and not find_database_backup(
        root, record.backup_dir, record.database
    ):
        copy = database_backup_path(root, record.backup_dir, record.database)
        return record, f"cannot roll back {fix_id}: the database backup {copy} is missing"
    return record, None


def _database_path(root: Path, database: str) -> Path:
    path = Path(database)
    return path if path.is_absolute() else root / path


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling back one fix will do, worked out before anything runs: the prompt and the
    admin's confirmation page show `text`, and `rollback` does exactly this (planned again
    under the locks).

    `method` says how the database is put back: "inverse" (the inverse change, which keeps
    every row written since), "restore" (the whole-file backup: only when nothing was written
    since the fix, or when asked for explicitly), or "" for a fix without a database."""

    record: FixRecord
    method: str
    inverse: InverseFix | None = None
    database_copy: Path | None = None
    losses: str = ""  # what the restore would drop, in words ("" when it drops nothing)
    lost: str = ""  # the same, said once it is done ("restoring dropped ...")
    restorable: tuple[str, ...] = ()  # files put back from their backups
    created: tuple[str, ...] = ()  # files the fix created: deleted
    undone: tuple[str, ...] = ()  # files edited since the fix: only its edit is reversed

    def steps(self, root: Path) -> list[str]:
        """Return the rollback's steps in words, files first as they run."""
        record = self.record
        lines = [
            f"restore {f} from {record.backup_dir}/{FILES_SUBDIR}/{f}" for f in self.restorable
        ]
        lines += [
            f"undo the fix's edit in {f}, keeping the changes made to it since" for f in self.undone
        ]
        lines += [f"delete {f} (the fix created it)" for f in self.created]
        if self.method == "inverse" and self.inverse is not None:
            plan = self.inverse.plan
            shown = _shown(root, record.database)
            lines.append(f"run on {shown} in one transaction: {plan.description}")
            lines.extend("  " + line for line in (plan.sql or "-- nothing to run").splitlines())
        elif self.method == "restore" and self.database_copy is not None:
            lines.append(
                f"restore database {record.database} from {relative_path(self.database_copy, root)}"
                + (f": {self.losses}" if self.losses else ": nothing was written to it since")
            )
        return lines

    def text(self, root: Path) -> str:
        """Return what the rollback will do, as the CLI prints it before asking."""
        head = f"Rolling back {self.record.id} ({self.record.title}) will:"
        return "\n".join([head, *("  " + s for s in self.steps(root))])


def plan_rollback(
    store: StateStore,
    root: Path,
    fix_id: str,
    *,
    restore_backup: bool = False,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> RollbackPlan:
    """Return what rolling back fix `fix_id` would do, changing nothing.

    Raise RollbackError, saying why, when `rollback` would refuse: see there. With
    `restore_backup` the database is restored from the fix's backup whatever was written
    since, and the plan says what that loses."""
    root = Path(root)
    record, refusal = _refusal(store, root, fix_id)
    if refusal:
        raise RollbackError(refusal)
    return _plan(root, record, restore_backup, lock_timeout)


def _plan(root: Path, record: FixRecord, restore_backup: bool, timeout: float) -> RollbackPlan:
    assert record.backup_dir is not None
    # A file the fix touched without a copy in its backup did not exist before the fix (the
    # manifest says so, or, for an old backup, knows nothing of it: an executor backs up every
    # file it changes, and a migration file it writes is new): undoing the fix deletes it, and
    # the plan says "delete", not "restore". The safety backup keeps it anyway.
    try:
        steps = file_steps(root, record.backup_dir, record.files)
    except ValueError as exc:
        raise RollbackError(
            f"cannot roll back {record.id}: {exc}; undo that part by hand (the file as it was "
            f"before the fix is in {record.backup_dir}/{FILES_SUBDIR}); nothing was changed"
        ) from exc
    base = RollbackPlan(
        record, "", restorable=steps.restorable, created=steps.created, undone=steps.undone
    )
    if record.database is None:
        return base
    db_path = _database_path(root, record.database)
    db_copy = find_database_backup(root, record.backup_dir, record.database)
    assert db_copy is not None  # _refusal checked it
    if restore_backup:
        unchanged = _state_since(root, record, db_path, timeout) == "unchanged"
        losses, lost = ("", "") if unchanged else _losses(db_copy, db_path)
        return replace(base, method="restore", database_copy=db_copy, losses=losses, lost=lost)
    try:
        inverse = _inverse(record, db_path, db_copy)
    except InverseRefused as exc:
        raise RollbackError(
            f"cannot roll back {record.id}: {exc}; nothing was changed"
            + _restore_hint(record.id, db_path)
        ) from exc
    except NoInverse as exc:
        why = str(exc)
    except DatabaseError as exc:
        raise RollbackError(f"cannot roll back {record.id}: cannot read {db_path}: {exc}") from exc
    else:
        return replace(base, method="inverse", inverse=inverse)
    # No inverse: only the whole-file restore undoes this fix, and only while nothing was
    # written since, or a restore would silently drop it.
    state = _state_since(root, record, db_path, timeout)
    if state == "unchanged":
        return replace(base, method="restore", database_copy=db_copy)
    since = (
        "the database changed since the fix"
        if state == "changed"
        else "there is no record of the database as the fix left it, so it counts as changed"
    )
    raise RollbackError(
        f"cannot roll back {record.id}: only restoring its database backup undoes it ({why}), "
        f"and {since}: {_losses(db_copy, db_path)[0]}; nothing was changed"
        + _restore_hint(record.id, db_path)
    )


def _shown(root: Path, database: str | None) -> str:
    """The database of a record as people know it: its file, or its server's URL."""
    if database is None:
        return ""
    return (
        schema_fixes_for(_database_path(root, database)).shown(_database_path(root, database))
        or database
    )


def _restore_hint(fix_id: str, db_path: Path) -> str:
    if not schema_fixes_for(db_path).restores_backup:
        return ""  # a server's backup is not put back by dbheal (docs/postgres.md)
    return (
        f" (`dbheal rollback {fix_id} --restore-backup` restores the backup anyway, keeping the "
        "current database in the rollback's own backup)"
    )


def _inverse(record: FixRecord, db_path: Path, db_copy: Path) -> InverseFix:
    try:
        changes = changes_from_json(record.plan_json) if record.plan_json else ()
    except ValueError as exc:
        raise NoInverse(f"its plan cannot be read: {exc}") from exc
    plans = [c for c in changes if isinstance(c, MigrationPlan)]
    return schema_fixes_for(db_path).inverse(db_path, db_copy, plans, fix_id=record.id)


def _state_since(root: Path, record: FixRecord, db_path: Path, timeout: float) -> str:
    """Return "unchanged" when the database is byte for byte as the fix left it, "changed"
    when it is not, "unknown" when the fix recorded no fingerprint (a fix from before
    fingerprints existed): that counts as changed."""
    assert record.backup_dir is not None
    fixes = schema_fixes_for(db_path)
    stored = fixes.stored_fingerprint(root / record.backup_dir)
    if stored is None:
        return "unknown"
    try:
        same = fixes.fingerprint(db_path, timeout=timeout) == stored
    except _UNREADABLE:
        return "changed"
    return "unchanged" if same else "changed"


def _losses(db_copy: Path, db_path: Path) -> tuple[str, str]:
    """Return what restoring `db_copy` over `db_path` would drop, and the same said once done."""
    try:
        return schema_fixes_for(db_path).losses(db_copy, db_path)
    except DatabaseError as exc:
        text = f"comparing the database with its backup failed ({exc})"
        return text, text


def rollback(
    store: StateStore,
    root: Path,
    fix_id: str,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    restore_backup: bool = False,
) -> FixRecord:
    """Undo fix `fix_id`, mark it rolled back, and record (and return) the rollback as a fix
    of its own.

    The database is put back by the inverse change (`databases/sqlite/inverse.py`) through the same
    executor as fixes, so rows written since the fix stay. It is refused when undoing would
    delete data written since (a table the fix created has rows, a column it added holds
    values, values would not convert back losslessly). A fix without an inverse is undone by
    restoring its database backup, but only when the database has not changed since the fix;
    otherwise it is refused, naming the rows a restore would drop. `restore_backup` restores
    the backup anyway. Files are put back from their file backups.

    Refused, with a RollbackError that says why, for an unknown fix, one that was not applied,
    one already rolled back, a rollback record, one whose backup is gone, and while later fixes
    that are still applied changed the same database or files (the message names them, in the
    order to roll them back). The work happens under the database's lock (and the files' lock),
    waiting at most `lock_timeout` seconds for each. The state before the rollback is backed up
    into the rollback's own folder first; if a step fails, what was done is put back, the
    attempt is recorded as failed, and RollbackError is raised."""
    root = Path(root)
    record, refusal = _refusal(store, root, fix_id)
    if refusal:
        raise RollbackError(refusal)
    try:
        with ExitStack() as locks:
            if record.database is not None:
                db_path = _database_path(root, record.database)
                locks.enter_context(database_lock(db_path, lock_timeout, root=root))
            if record.files:
                locks.enter_context(files_lock(root, lock_timeout))
            # Checked and planned again under the locks: another process may have rolled it
            # (or a later fix) back, applied a new fix, or written rows, while we waited.
            record, refusal = _refusal(store, root, fix_id)
            if refusal:
                raise RollbackError(refusal)
            plan = _plan(root, record, restore_backup, lock_timeout)
            return _rollback_locked(store, root, plan, lock_timeout)
    except LockTimeout as exc:
        raise RollbackError(f"cannot roll back {fix_id} now: {exc}") from exc


def _rollback_locked(
    store: StateStore, root: Path, plan: RollbackPlan, timeout: float
) -> FixRecord:
    record = plan.record
    assert record.backup_dir is not None
    rollback_id = store.new_fix_id()
    started = utc_now()
    try:
        safety = backup_fix(
            root, rollback_id, database=record.database, files=record.files, timeout=timeout
        )
    except (BackupError, OSError) as exc:
        raise RollbackError(
            f"cannot roll back {record.id}: the current state could not be backed up first "
            f"({exc}); nothing was changed"
        ) from exc
    files_backup = root / record.backup_dir / FILES_SUBDIR
    rollback_record = FixRecord(
        id=rollback_id,
        created_at=started,
        kind=record.kind,
        title=f"Roll back {record.id}: {record.title}",
        issue_fingerprint=record.issue_fingerprint,
        plan_id=record.plan_id,
        plan_text="\n".join(plan.steps(root)),
        plan_json=json.dumps(
            {"type": "rollback", "rollback_of": record.id, "method": plan.method or "files"}
        ),
        database=record.database,
        files=record.files,
        backup_dir=safety.backup_dir,
        rollback_of=record.id,
    )
    database_changed = False
    applied: list[VerifyCheck] = []
    try:
        # Files first: restore_files checks every backup before it touches anything, so a
        # damaged file backup stops the rollback before the database is changed.
        if plan.restorable:
            restore_files(root, files_backup, plan.restorable)
        undo_edits(root, record.backup_dir, plan.undone)
        for rel in plan.created:
            (root / rel).unlink(missing_ok=True)
        if record.database is not None:
            db_path = _database_path(root, record.database)
            if plan.method == "inverse" and plan.inverse is not None:
                outcome = apply_plan(
                    db_path, plan.inverse.plan, lock_timeout=timeout, extra_check=plan.inverse.check
                )
                applied.extend(outcome.verify.checks)
                if not outcome.applied:
                    raise _InverseFailed(outcome.message)
            elif plan.method == "restore" and plan.database_copy is not None:
                database_changed = True
                schema_fixes_for(db_path).restore(plan.database_copy, db_path, timeout=timeout)
    except (BackupError, OSError, _InverseFailed) as exc:
        undo = _undo_partial(root, record, safety.backup_dir, timeout, database_changed)
        failed = store.record_fix(
            replace(
                rollback_record,
                outcome="failed",
                message=f"rollback failed: {exc}; {undo}",
                verify=VerifyReport(tuple(applied)),
            )
        )
        raise RollbackError(f"cannot roll back {record.id}: {exc}; {undo} ({failed.id})") from exc
    restored = plan.database_copy if plan.method == "restore" else None
    live = None if record.database is None else _database_path(root, record.database)
    verify = check_restored(root, record, restored, live, undone=plan.undone)
    verify = VerifyReport(tuple(applied) + verify.checks)
    message = f"Rolled back {record.id}" + _how(plan, safety.backup_dir)
    if not verify.ok:
        message += " Verification failed: " + "; ".join(c.detail for c in verify.failures())
    done = replace(rollback_record, verify=verify, message=message)
    store.record_rollback(record.id, done)
    stored = store.fix(rollback_id)
    assert stored is not None
    return stored


class _InverseFailed(Exception):
    """The executor refused or rolled back the inverse change: the database is unchanged."""


def _how(plan: RollbackPlan, safety_dir: str) -> str:
    """Say how the rollback was done and where the state from before it is kept."""
    if plan.method == "inverse" and plan.inverse is not None:
        what = ", ".join(u.label for u in plan.inverse.undoes) or "nothing left to drop"
        return (
            f" by its inverse change ({what}): every row written since the fix is still "
            f"there. The database as it was before this rollback is in {safety_dir}."
        )
    if plan.method == "restore":
        if plan.lost:
            return (
                f": restored the database backup as asked; {plan.lost}. Those rows are "
                f"kept in the backup {safety_dir}."
            )
        return (
            ": restored the database backup; nothing had been written to the database since "
            f"the fix. The database as it was before this rollback is in {safety_dir}."
        )
    return f". The files as they were before this rollback are in {safety_dir}."


def _undo_partial(
    root: Path, record: FixRecord, safety_dir: str, timeout: float, database_changed: bool
) -> str:
    # Put back the state from before the attempt, so that a failed rollback changes nothing.
    # The inverse change commits all or nothing: only a restore can have half-changed the
    # database.
    try:
        if record.files:
            restore_files(root, root / safety_dir / FILES_SUBDIR, record.files)
        if record.database is not None and database_changed:
            copy = database_backup_path(root, safety_dir, record.database)
            if copy.is_file():
                db_path = _database_path(root, record.database)
                schema_fixes_for(db_path).restore(copy, db_path, timeout=timeout)
    except (BackupError, OSError) as exc:
        return (
            f"putting back the state from before the attempt failed too ({exc}); "
            f"it is in {safety_dir}"
        )
    return "nothing was changed"
