"""Policies over the fix history and its backups: what depends on what, rollback, pruning.

A fix's backup is the state just before it. Restoring it undoes the fix, and also every later
change to the same database or files, so a fix is only rolled back once no later fix that is
still applied touched any of the same things: those are rolled back first, newest first.

A rollback is itself recorded as a fix (kind as the fix it undid, `rollback_of` set). It first
backs up the current state into its own backup folder: restoring a database backup also throws
away what the application wrote since the fix, and that copy is the way back to it.

Pruning deletes old backups, but never the backup of a fix that can still be rolled back.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

from dbheal_lsp.fixes.backup import (
    BACKUPS_DIR,
    FILES_SUBDIR,
    BackupError,
    backup_fix,
    database_backup_path,
    find_database_backup,
    has_file_backup,
    restore_database,
    restore_files,
)
from dbheal_lsp.fixes.lock import LockTimeout, database_lock, files_lock
from dbheal_lsp.fixes.state import FixRecord, StateStore, parse_time, utc_now
from dbheal_lsp.model import VerifyCheck, VerifyReport

__all__ = [
    "DEFAULT_KEEP_PER_DATABASE",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_MAX_AGE_DAYS",
    "RollbackError",
    "dependents",
    "prune",
    "rollback",
]

DEFAULT_MAX_AGE_DAYS = 30.0
DEFAULT_KEEP_PER_DATABASE = 20
DEFAULT_LOCK_TIMEOUT = 5.0


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


def rollback(
    store: StateStore,
    root: Path,
    fix_id: str,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> FixRecord:
    """Undo fix `fix_id`: restore its database backup and/or its files, mark it rolled back,
    and record (and return) the rollback as a fix of its own.

    Refused, with a RollbackError that says why, for an unknown fix, one that was not applied,
    one already rolled back, a rollback record, one whose backup is gone, and while later fixes
    that are still applied changed the same database or files (the message names them, in the
    order to roll them back). The work happens under the database's lock (and the files' lock),
    waiting at most `lock_timeout` seconds for each. The state before the rollback is backed up
    into the rollback's own folder first; if restoring fails, what was restored is put back,
    the attempt is recorded as failed, and RollbackError is raised."""
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
            # Checked again under the locks: another process may have rolled it (or a later
            # fix) back, or applied a new fix, while we waited.
            record, refusal = _refusal(store, root, fix_id)
            if refusal:
                raise RollbackError(refusal)
            return _rollback_locked(store, root, record, lock_timeout)
    except LockTimeout as exc:
        raise RollbackError(f"cannot roll back {fix_id} now: {exc}") from exc


def _rollback_locked(store: StateStore, root: Path, record: FixRecord, timeout: float) -> FixRecord:
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
    # A file the fix touched but whose backup knows nothing of it did not exist before the fix
    # (an executor backs up every file it changes, before changing it, and a migration file it
    # writes is new): undoing the fix deletes it. The safety backup above keeps it anyway.
    restorable = [f for f in record.files if has_file_backup(files_backup, f)]
    created = [f for f in record.files if f not in restorable]
    db_copy = (
        find_database_backup(root, record.backup_dir, record.database)
        if record.database is not None
        else None
    )
    steps = [f"restore {f} from {record.backup_dir}/{FILES_SUBDIR}/{f}" for f in restorable]
    steps += [f"delete {f} (the fix created it)" for f in created]
    if record.database is not None and db_copy is not None:
        steps.append(f"restore database {record.database} from {_rel(root, db_copy)}")
    rollback_record = FixRecord(
        id=rollback_id,
        created_at=started,
        kind=record.kind,
        title=f"Roll back {record.id}: {record.title}",
        issue_fingerprint=record.issue_fingerprint,
        plan_id=record.plan_id,
        plan_text="\n".join(steps),
        plan_json=json.dumps({"type": "rollback", "rollback_of": record.id}),
        database=record.database,
        files=record.files,
        backup_dir=safety.backup_dir,
        rollback_of=record.id,
    )
    try:
        # Files first: restore_files checks every backup before it touches anything, so a
        # damaged file backup stops the rollback before the database is replaced.
        if restorable:
            restore_files(root, files_backup, restorable)
        for rel in created:
            (root / rel).unlink(missing_ok=True)
        if record.database is not None and db_copy is not None:
            restore_database(db_copy, _database_path(root, record.database), timeout=timeout)
    except (BackupError, OSError) as exc:
        undo = _undo_partial(root, record, safety.backup_dir, timeout)
        failed = store.record_fix(
            replace(rollback_record, outcome="failed", message=f"rollback failed: {exc}; {undo}")
        )
        raise RollbackError(f"cannot roll back {record.id}: {exc}; {undo} ({failed.id})") from exc
    verify = _verify(root, record, db_copy)
    message = f"Rolled back {record.id}."
    if record.database is not None:
        message += (
            f" The database is as it was before that fix: anything written to it since is in "
            f"the backup {safety.backup_dir}."
        )
    elif record.files:
        message += f" The files as they were before this rollback are in {safety.backup_dir}."
    if not verify.ok:
        message += " Verification failed: " + "; ".join(c.detail for c in verify.failures())
    done = replace(rollback_record, verify=verify, message=message)
    store.record_rollback(record.id, done)
    stored = store.fix(rollback_id)
    assert stored is not None
    return stored


def _undo_partial(root: Path, record: FixRecord, safety_dir: str, timeout: float) -> str:
    # Put back the state from before the attempt, so that a failed rollback changes nothing.
    try:
        if record.files:
            restore_files(root, root / safety_dir / FILES_SUBDIR, record.files)
        if record.database is not None:
            copy = database_backup_path(root, safety_dir, record.database)
            if copy.is_file():
                restore_database(copy, _database_path(root, record.database), timeout=timeout)
    except (BackupError, OSError) as exc:
        return (
            f"putting back the state from before the attempt failed too ({exc}); "
            f"it is in {safety_dir}"
        )
    return "nothing was changed"


def _verify(root: Path, record: FixRecord, db_copy: Path | None) -> VerifyReport:
    assert record.backup_dir is not None
    checks: list[VerifyCheck] = []
    if record.files:
        backup = root / record.backup_dir / FILES_SUBDIR
        differing = []
        for rel in record.files:
            saved, live = backup / rel, root / rel
            if saved.is_file():
                same = live.is_file() and live.read_bytes() == saved.read_bytes()
            else:  # absent before the fix
                same = not live.exists()
            if not same:
                differing.append(rel)
        checks.append(
            VerifyCheck(
                "files restored",
                not differing,
                f"differ from the backup: {', '.join(differing)}"
                if differing
                else f"{len(record.files)} file(s) as before the fix",
            )
        )
    if record.database is not None and db_copy is not None:
        live_path = _database_path(root, record.database)
        try:
            expected = _database_summary(db_copy)
            actual = _database_summary(live_path)
            ok = expected == actual
            detail = (
                f"schema and row counts of {len(expected)} objects match the backup"
                if ok
                else "schema or row counts differ from the backup"
            )
        except sqlite3.Error as exc:
            ok, detail = False, f"cannot read the database: {exc}"
        checks.append(VerifyCheck("database restored", ok, detail))
    return VerifyReport(tuple(checks))


def _database_summary(path: Path) -> dict[str, tuple[str, int]]:
    # Schema text and row count per table: cheap on large databases (no full checksum), and
    # enough to tell the restored content from the content it replaced in practice.
    # mode=rw, not ro: it never creates the file, and unlike a read-only connection it removes
    # the -wal and -shm files it made when it closes.
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    try:
        summary: dict[str, tuple[str, int]] = {}
        for name, sql in conn.execute(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type IN "
            "('table', 'view', 'index', 'trigger') ORDER BY type, name"
        ):
            count = -1
            if str(sql).upper().startswith("CREATE TABLE") and not str(name).startswith("sqlite_"):
                quoted = '"' + str(name).replace('"', '""') + '"'
                count = int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])
            summary[str(name)] = (str(sql), count)
        return summary
    finally:
        conn.close()


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def prune(
    store: StateStore,
    root: Path,
    *,
    max_age_days: float = DEFAULT_MAX_AGE_DAYS,
    keep_per_database: int = DEFAULT_KEEP_PER_DATABASE,
    now: datetime | None = None,
) -> list[str]:
    """Delete backup folders older than `max_age_days` or beyond the newest
    `keep_per_database` of their database (code-only fixes count as one group), and return
    the deleted folders relative to the root.

    Never deleted: the backup of a fix that can still be rolled back (applied, not rolled back,
    not itself a rollback), whatever its age or rank, and a folder without a record unless it is
    older than the age limit (it may belong to a fix being applied right now)."""
    root = Path(root)
    moment = now if now is not None else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    cutoff = moment - timedelta(days=max_age_days)
    backups = root.joinpath(*BACKUPS_DIR.parts)
    if not backups.is_dir():
        return []
    owners: dict[str, FixRecord] = {}
    for record in store.fixes():  # newest first: an older record never hides a newer one
        if record.backup_dir:
            owners.setdefault(PurePosixPath(record.backup_dir).as_posix(), record)
    ranked = _beyond_keep(root, owners, keep_per_database)
    deleted: list[str] = []
    for folder in sorted(_backup_folders(backups)):
        rel = PurePosixPath(*BACKUPS_DIR.parts, folder.name).as_posix()
        owner = owners.get(rel)
        if owner is None:
            created = datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc)
            expired = created < cutoff
        elif owner.can_roll_back:
            continue
        else:
            expired = parse_time(owner.created_at) < cutoff or rel in ranked
        if not expired:
            continue
        try:
            shutil.rmtree(folder)
        except OSError:
            continue  # in use or not ours to delete: try again on the next prune
        deleted.append(rel)
    return deleted


def _backup_folders(backups: Path) -> Iterator[Path]:
    for folder in backups.iterdir():
        # A symlink is not a folder dbheal made: never follow it out of the backups folder.
        if folder.is_dir() and not folder.is_symlink():
            yield folder


def _beyond_keep(root: Path, owners: dict[str, FixRecord], keep: int) -> set[str]:
    groups: dict[str | None, list[tuple[str, str, str]]] = {}
    for rel, record in owners.items():
        if (root / rel).is_dir():
            key = None if record.database is None else PurePosixPath(record.database).as_posix()
            groups.setdefault(key, []).append((record.created_at, record.id, rel))
    beyond: set[str] = set()
    for items in groups.values():
        items.sort(reverse=True)  # newest first
        beyond.update(rel for _, _, rel in items[max(keep, 0) :])
    return beyond
