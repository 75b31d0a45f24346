"""Where a fix's backups live, and the copies of source files a fix is about to change.

A fix's backups live under `<root>/.dbheal/backups/<fix id>/`, never beside the sources: the
database's copy under `database/` (taken by the database back end, `SchemaFixes.backup`), the
files under `files/`. Records keep that folder relative to the root. Every folder there is made
by `dbheal_lsp.files.private_dir` (mode 0700, ignored by git, refused when it is a link) and
every file by `mkstemp` and a rename, never by opening a predictable name that a repository
could have planted a link at.

Source files are copied with their metadata, under the same relative paths, and put back by
writing a temporary file beside the target and renaming it over the target (`os.replace`), so
that an editor or a running import never reads half a file. A manifest beside the copies records
each file's hash, and which files did not exist before the fix (a fix may create a file, such
as a migration): restoring deletes those.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dbheal_lsp.files import atomic_write, create_private_file, ensure_dir

__all__ = [
    "BACKUPS_DIR",
    "DATABASE_SUBDIR",
    "DEFAULT_TIMEOUT",
    "FILES_SUBDIR",
    "MANIFEST_NAME",
    "WRITTEN_SUBDIR",
    "BackupError",
    "FixBackup",
    "backup_files",
    "database_backup_path",
    "find_database_backup",
    "fix_backup_dir",
    "has_file_backup",
    "restore_files",
]

BACKUPS_DIR = PurePosixPath(".dbheal/backups")
DATABASE_SUBDIR = "database"
FILES_SUBDIR = "files"
WRITTEN_SUBDIR = "written"  # the files as the fix wrote them: a rollback undoes only its edit
MANIFEST_NAME = ".dbheal-manifest.json"
DEFAULT_TIMEOUT = 5.0  # seconds a database backup waits for a writer's lock


class BackupError(Exception):
    """A backup cannot be taken or restored; the message says why and what to do."""


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
