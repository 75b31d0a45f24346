"""Pruning old backups, but never the backup of a fix that can still be rolled back.

A server's backup is copies of tables on the server (PostgreSQL's `dbheal_backup` schema),
listed by a manifest in the fix's folder: they are dropped by the same rule, just before the
folder is deleted; a server that cannot be reached keeps the folder until a later prune.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

from dbheal_lsp.backups import BACKUPS_DIR
from dbheal_lsp.fixes.state import StateStore
from dbheal_lsp.records import FixRecord, parse_time

DEFAULT_MAX_AGE_DAYS = 30.0
DEFAULT_KEEP_PER_DATABASE = 20


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

    Only folders that dbheal's history lists are deleted: the backup folders of its records,
    and the folders of fix ids it handed out that were never recorded (a fix that died), once
    older than the age limit. Never deleted: the backup of a fix that can still be rolled back
    (applied, not rolled back, not itself a rollback), whatever its age or rank, and any other
    folder. Raise StateError, deleting nothing, if `.dbheal` or `.dbheal/backups` is a link
    (a committed `.dbheal/backups -> ../..` must not aim the pruning at the user's files)."""
    from dbheal_lsp.files import UnsafeStateDir, private_dir
    from dbheal_lsp.fixes.state import StateError

    root = Path(root)
    moment = now if now is not None else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    cutoff = moment - timedelta(days=max_age_days)
    backups = root.joinpath(*BACKUPS_DIR.parts)
    if not os.path.lexists(backups):
        return []
    try:
        backups = private_dir(root, *BACKUPS_DIR.parts[1:])
    except UnsafeStateDir as exc:
        raise StateError(str(exc)) from exc
    except OSError as exc:
        raise StateError(f"cannot prune the backups in {backups}: {exc}") from exc
    owners: dict[str, FixRecord] = {}
    for record in store.fixes():  # newest first: an older record never hides a newer one
        if record.backup_dir:
            owners.setdefault(PurePosixPath(record.backup_dir).as_posix(), record)
    # Ids reserved by `new_fix_id` (the history's own list), recorded or not.
    handed_out = store.handed_out_fix_ids()
    ranked = _beyond_keep(root, owners, keep_per_database)
    deleted: list[str] = []
    for folder in sorted(_backup_folders(backups)):
        rel = PurePosixPath(*BACKUPS_DIR.parts, folder.name).as_posix()
        owner = owners.get(rel)
        if owner is None:
            if folder.name not in handed_out:
                continue  # not listed by dbheal's history: not dbheal's to delete
            created = datetime.fromtimestamp(folder.lstat().st_mtime, timezone.utc)
            expired = created < cutoff
        elif owner.can_roll_back:
            continue
        else:
            expired = parse_time(owner.created_at) < cutoff or rel in ranked
        if not expired or not _discard_server_copies(root, folder, owner):
            continue
        try:
            shutil.rmtree(folder)
        except OSError:
            continue  # in use or not ours to delete: try again on the next prune
        deleted.append(rel)
    return deleted


@runtime_checkable
class _ServerBackups(Protocol):
    """A back end whose backup is kept on the server (databases/postgres/schema_fixes.py)."""

    def discard_backup(self, copy: Path, database: Path) -> None: ...


def _discard_server_copies(root: Path, folder: Path, owner: FixRecord | None) -> bool:
    """Drop what a server's backup in `folder` keeps on the server; return False (keep the
    folder) when that could not be done. A SQLite backup is its folder: nothing to do."""
    from dbheal_lsp.backups import BackupError
    from dbheal_lsp.databases import DatabaseError
    from dbheal_lsp.databases.schema_fixes import schema_fixes_for

    refusals: tuple[type[Exception], ...] = (BackupError, OSError, *DatabaseError)
    copies = folder / "database"
    if not stat.S_ISDIR(copies.lstat().st_mode if os.path.lexists(copies) else 0):
        return True
    for copy in copies.iterdir():
        # The manifest is named after the server's file (`.dbheal/postgres/<name>.pgserver`).
        database = root / ".dbheal" / "postgres" / copy.name
        if owner is not None and owner.database and Path(owner.database).name == copy.name:
            database = root / owner.database
        fixes = schema_fixes_for(database)
        if not isinstance(fixes, _ServerBackups) or not copy.is_file():
            continue
        try:
            fixes.discard_backup(copy, database)
        except refusals:
            return False
    return True


def _backup_folders(backups: Path) -> Iterator[Path]:
    for folder in backups.iterdir():
        # A symlink is not a folder dbheal made: never follow it out of the backups folder
        # (lstat: the entry itself, not what it points to).
        if stat.S_ISDIR(folder.lstat().st_mode):
            yield folder


def _beyond_keep(root: Path, owners: dict[str, FixRecord], keep: int) -> set[str]:
    groups: dict[str | None, list[tuple[str, str, str]]] = {}
    for rel, record in owners.items():
        # Only `.dbheal/backups/<name>` ranks: a record's folder elsewhere is not pruned.
        if PurePosixPath(rel).parent == BACKUPS_DIR and (root / rel).is_dir():
            key = None if record.database is None else PurePosixPath(record.database).as_posix()
            groups.setdefault(key, []).append((record.created_at, record.id, rel))
    beyond: set[str] = set()
    for items in groups.values():
        items.sort(reverse=True)  # newest first
        beyond.update(rel for _, _, rel in items[max(keep, 0) :])
    return beyond
