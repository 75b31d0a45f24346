"""Backups taken before a fix, and their restoration.

Databases are copied with SQLite's online backup API (`sqlite3.Connection.backup`): the copy is
one consistent snapshot even while the application writes through another connection, which a
file copy of a live database (plus its -wal file) is not. Restoring goes the same way, into the
live file, so that connections the application holds open see the restored data on their next
statement instead of keeping pages of a file that was swapped under them.

Source files are copied with their metadata, under the same relative paths, and put back by
writing a temporary file beside the target and renaming it over the target (`os.replace`), so
that an editor or a running import never reads half a file. A manifest beside the copies records
each file's hash, and which files did not exist before the fix (a fix may create a file, such
as a migration): restoring deletes those.

A fix's backups live under `<root>/.dbheal/backups/<fix id>/`, never beside the sources: the
database under `database/`, the files under `files/` (see `backup_fix`). Records keep that folder
relative to the root. Every folder there is made by `dbheal_lsp.files.private_dir` (mode 0700,
ignored by git, refused when it is a link) and every file by `mkstemp` and a rename, never by
opening a predictable name that a repository could have planted a link at.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dbheal_lsp.files import atomic_write, create_private_file, ensure_dir, relative_path

__all__ = [
    "BACKUPS_DIR",
    "DATABASE_SUBDIR",
    "FILES_SUBDIR",
    "MANIFEST_NAME",
    "BackupError",
    "DatabaseBusyError",
    "FixBackup",
    "backup_database",
    "backup_files",
    "backup_fix",
    "database_backup_path",
    "find_database_backup",
    "fix_backup_dir",
    "has_file_backup",
    "restore_database",
    "restore_files",
]

BACKUPS_DIR = PurePosixPath(".dbheal/backups")
DATABASE_SUBDIR = "database"
FILES_SUBDIR = "files"
MANIFEST_NAME = ".dbheal-manifest.json"
DEFAULT_TIMEOUT = 5.0
# Result codes of sqlite3_backup_step (sqlite3.SQLITE_BUSY exists only from Python 3.11 on).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


class BackupError(Exception):
    """A backup cannot be taken or restored; the message says why and what to do."""


class DatabaseBusyError(BackupError, TimeoutError):
    """The database stayed locked by another connection for longer than the timeout."""


# --- databases ----------------------------------------------------------------------------------


def backup_database(db_path: Path, dest_dir: Path, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Copy the database at `db_path` into `dest_dir` (created if needed) through SQLite's
    online backup API and return the copy's path (`dest_dir/<database file name>`).

    The copy is a consistent snapshot even while another connection writes, is checked with
    `PRAGMA quick_check`, and is a single self-contained file (rollback journal mode). Raise
    BackupError if the database does not exist or the copy fails."""
    db_path = Path(db_path)
    dest_dir = Path(dest_dir)
    if not db_path.is_file():
        raise BackupError(f"cannot back up {db_path}: no such database file")
    ensure_dir(dest_dir)
    target = dest_dir / db_path.name
    # Written under a temporary name and renamed at the end: a crash must not leave something
    # that looks like a complete backup.
    fd, temp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{db_path.name}.", suffix=".part")
    os.close(fd)
    temp = Path(temp_name)
    try:
        source = _connect(db_path, timeout, must_exist=True)
        try:
            copy = sqlite3.connect(temp)
            try:
                # pages=-1 copies everything in one step under one read transaction: in WAL
                # mode writers go on meanwhile, and the copy is the snapshot at its start.
                _copy(source, copy, timeout, f"cannot back up {db_path}")
                copy.execute("PRAGMA journal_mode = DELETE").fetchone()
                _quick_check(copy, f"the backup of {db_path}")
            finally:
                copy.close()
        finally:
            source.close()
        os.replace(temp, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {db_path}: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return target


def restore_database(backup_path: Path, db_path: Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Put the database backup at `backup_path` back into the live database at `db_path`,
    through the backup API (connections open on `db_path` see the restored content).

    The backup is checked first (`PRAGMA quick_check`). Raise DatabaseBusyError if another
    connection keeps the database locked for more than `timeout` seconds, BackupError if the
    backup is missing or damaged or the copy fails."""
    backup_path = Path(backup_path)
    db_path = Path(db_path)
    if not backup_path.is_file():
        raise BackupError(f"cannot restore {db_path}: the backup {backup_path} does not exist")
    if not db_path.parent.is_dir():
        raise BackupError(f"cannot restore {db_path}: its folder does not exist")
    try:
        source = _connect(backup_path, timeout, must_exist=True, read_only=True)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read the backup {backup_path}: {exc}") from exc
    try:
        _quick_check(source, f"the backup {backup_path}")
        try:
            target = _connect(db_path, timeout, must_exist=False)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot open {db_path} to restore it: {exc}") from exc
        try:
            _copy(source, target, timeout, f"cannot restore {db_path}")
        finally:
            target.close()
    finally:
        source.close()


class _Busy(Exception):
    pass


def _copy(
    source: sqlite3.Connection, target: sqlite3.Connection, timeout: float, failure: str
) -> None:
    # Python's backup() retries forever while either side is busy; its progress callback sees
    # every attempt, and raising there aborts the copy (the target is left as it was).
    deadline = time.monotonic() + max(timeout, 0.0)

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (_SQLITE_BUSY, _SQLITE_LOCKED) and time.monotonic() > deadline:
            raise _Busy

    try:
        source.backup(target, pages=-1, progress=progress, sleep=0.05)
    except _Busy:
        raise _busy_error(failure, timeout) from None
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _busy_error(failure, timeout) from exc
        raise BackupError(f"{failure}: {exc}") from exc


def _busy_error(failure: str, timeout: float) -> DatabaseBusyError:
    return DatabaseBusyError(
        f"{failure}: another connection kept the database locked for {timeout:g} s "
        "(an open write transaction of the application?); finish it and try again"
    )


def _connect(
    path: Path, timeout: float, *, must_exist: bool, read_only: bool = False
) -> sqlite3.Connection:
    # mode=rw never creates a file (a missing database must not become an empty one), and a
    # read-write connection, unlike a read-only one, removes the -wal and -shm files it made
    # when it closes, so backing up leaves nothing new beside the application's database.
    mode = "ro" if read_only else ("rw" if must_exist else "rwc")
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    return conn


def _quick_check(conn: sqlite3.Connection, what: str) -> None:
    # quick_check, not integrity_check: measured ~10x cheaper on a 1M-row table, and it finds
    # the damage a copy can have (torn or wrong pages).
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is damaged: {exc}") from exc
    if [tuple(r) for r in rows] != [("ok",)]:
        detail = "; ".join(str(r[0]) for r in rows[:3])
        raise BackupError(f"{what} is damaged: {detail}")


# --- files --------------------------------------------------------------------------------------


def _checked_relative(rel_path: str | Path) -> PurePosixPath:
    text = str(rel_path).replace("\\", "/")
    rel = PurePosixPath(text)
    if rel.is_absolute() or not rel.parts or ".." in rel.parts or ":" in rel.parts[0]:
        raise BackupError(f"{rel_path!s} is not a path inside the project root")
    if rel.name == MANIFEST_NAME:
        raise BackupError(f"{rel_path!s}: that name is reserved for dbheal's backup manifest")
    return rel


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(dest_dir: Path) -> dict[str, dict[str, object]]:
    path = dest_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"the backup manifest {path} cannot be read: {exc}") from exc
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise BackupError(f"the backup manifest {path} is not a dbheal manifest")
    return {str(k): v for k, v in files.items() if isinstance(v, dict)}


def _write_manifest(dest_dir: Path, files: dict[str, dict[str, object]]) -> None:
    text = json.dumps({"version": 1, "files": files}, indent=1, sort_keys=True)
    _atomic_write(dest_dir / MANIFEST_NAME, text.encode("utf-8"), None)


def backup_files(root: Path, rel_paths: Iterable[str | Path], dest_dir: Path) -> list[Path]:
    """Copy the files `rel_paths` (relative to `root`) into `dest_dir` under the same relative
    paths, with their metadata, and return the copies' paths.

    A file that does not exist is recorded as absent in the manifest (`restore_files` then
    deletes it), so a fix that creates a file can be undone too. Several calls into one
    `dest_dir` add up; a file already backed up there keeps its first copy."""
    root = Path(root)
    dest_dir = Path(dest_dir)
    rels = [_checked_relative(p) for p in rel_paths]
    ensure_dir(dest_dir)
    manifest = _read_manifest(dest_dir)
    copies: list[Path] = []
    for rel in rels:
        key = rel.as_posix()
        source = root.joinpath(*rel.parts)
        copy = dest_dir.joinpath(*rel.parts)
        if key in manifest:
            # The first backup is the state before the fix; a later call must not overwrite it.
            if manifest[key].get("present"):
                copies.append(copy)
            continue
        if source.is_file():
            ensure_dir(copy.parent)
            # Copied into a new file of our own, then renamed: never written through a link.
            fd, temp = create_private_file(copy.parent, f".{copy.name}.", ".part")
            os.close(fd)
            try:
                shutil.copy2(source, temp)
                os.replace(temp, copy)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
            manifest[key] = {"present": True, "sha256": _sha256(copy), "size": copy.stat().st_size}
            copies.append(copy)
        elif source.exists():
            raise BackupError(f"cannot back up {key}: it is not a regular file")
        else:
            manifest[key] = {"present": False}
    _write_manifest(dest_dir, manifest)
    return copies


def restore_files(root: Path, dest_dir: Path, rel_paths: Iterable[str | Path]) -> list[Path]:
    """Put the files `rel_paths` backed up in `dest_dir` back under `root`, each replaced
    atomically with the exact bytes and permission bits of its backup; delete those that were
    recorded as absent. Every backup is checked (present, same hash) before any file is
    touched; raise BackupError if one is missing or damaged. Return the paths written or
    deleted.

    The restored files get a new modification time, not the backup's: tools that compare
    times (editors, make, caches) must see that the file changed."""
    root = Path(root)
    dest_dir = Path(dest_dir)
    rels = [_checked_relative(p) for p in rel_paths]
    manifest = _read_manifest(dest_dir)
    plan: list[tuple[Path, Path | None]] = []
    for rel in rels:
        key = rel.as_posix()
        copy = dest_dir.joinpath(*rel.parts)
        entry = manifest.get(key)
        target = root.joinpath(*rel.parts)
        if entry is not None and not entry.get("present"):
            plan.append((target, None))
            continue
        if not copy.is_file():
            raise BackupError(f"cannot restore {key}: it has no backup in {dest_dir}")
        expected = entry.get("sha256") if entry else None
        if expected is not None and _sha256(copy) != expected:
            raise BackupError(f"cannot restore {key}: its backup in {dest_dir} was changed")
        plan.append((target, copy))
    done: list[Path] = []
    for target, saved in plan:
        if saved is None:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(target, saved.read_bytes(), saved.stat().st_mode)
        done.append(target)
    return done


def _atomic_write(target: Path, data: bytes, mode: int | None) -> None:
    atomic_write(target, data, mode=mode)


# --- a fix's backup folder ----------------------------------------------------------------------


@dataclass(frozen=True)
class FixBackup:
    """Where the backups of one fix are: paths relative to the project root (posix)."""

    backup_dir: str  # ".dbheal/backups/<fix id>": what FixRecord.backup_dir stores
    database: str | None  # the database copy, or None
    files: tuple[str, ...]  # the copies of the files that existed


def fix_backup_dir(root: Path, fix_id: str) -> Path:
    """Return the backup folder of fix `fix_id`: `<root>/.dbheal/backups/<fix id>`."""
    if not fix_id or "/" in fix_id or "\\" in fix_id or fix_id in (".", ".."):
        raise BackupError(f"{fix_id!r} is not a fix id")
    return Path(root).joinpath(*BACKUPS_DIR.parts, fix_id)


def database_backup_path(root: Path, backup_dir: str, database: str) -> Path:
    """Return where `backup_fix` put the copy of `database` in the backup folder `backup_dir`
    (both as FixRecord stores them)."""
    return Path(root) / backup_dir / DATABASE_SUBDIR / Path(database).name


def find_database_backup(root: Path, backup_dir: str, database: str) -> Path | None:
    """Return the copy of `database` in the backup folder `backup_dir`, or None: where
    `backup_fix` puts it (`database/<name>`), else directly in the folder (`<name>`), where a
    caller of `backup_database(db, backup_dir)` puts it."""
    for candidate in (
        database_backup_path(root, backup_dir, database),
        Path(root) / backup_dir / Path(database).name,
    ):
        if candidate.is_file():
            return candidate
    return None


def has_file_backup(dest_dir: Path, rel_path: str | Path) -> bool:
    """Return whether `dest_dir` (a `backup_files` folder) knows the state of `rel_path` before
    the fix: a copy of it, or a record that it did not exist."""
    rel = _checked_relative(rel_path)
    if Path(dest_dir).joinpath(*rel.parts).is_file():
        return True
    return rel.as_posix() in _read_manifest(Path(dest_dir))


def backup_fix(
    root: Path,
    fix_id: str,
    *,
    database: str | Path | None = None,
    files: Sequence[str | Path] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> FixBackup:
    """Back up what fix `fix_id` is about to change, in the layout `rollback.rollback` reads:
    the database (relative to `root`, or absolute) into `<backup dir>/database/`, the files
    (relative to `root`) into `<backup dir>/files/`. Return the backup's paths for the record."""
    root = Path(root)
    folder = ensure_dir(fix_backup_dir(root, fix_id))
    db_copy: str | None = None
    if database is not None:
        db_path = Path(database) if Path(database).is_absolute() else root / database
        db_copy = relative_path(
            backup_database(db_path, folder / DATABASE_SUBDIR, timeout=timeout), root
        )
    copies = backup_files(root, files, folder / FILES_SUBDIR) if files else []
    return FixBackup(
        backup_dir=relative_path(folder, root),
        database=db_copy,
        files=tuple(relative_path(c, root) for c in copies),
    )
