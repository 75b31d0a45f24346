"""What the file watcher's paths mean: which folders it watches, and which of the workspace,
the migrations and the live database an event's path belongs to.

What is watched, and why:

- The workspace root on its own (files directly in it), and each top-level folder recursively
  except the skipped ones (`.venv`, `venv`, `.git`, `node_modules`, `__pycache__`, `.dbheal`,
  `build`, `dist` and the engine's other default excludes). Not watching `.venv` at all, rather
  than filtering its events, keeps inotify from putting a watch on each of its thousands of
  folders. Skipped folders deeper down are filtered by name.
- The migrations folder (recursively: diesel-style migrations are `<name>/up.sql`) and the
  database's folder, when the watches above do not cover them already.
- Of the database, the file itself, its `-wal` and its `-journal`: a change to any of them means
  a connection wrote. The `-shm` file is never looked at: readers write to it too, the watcher's
  own reads included.

Paths are compared as absolute strings: an event's path is one, and it is compared on the
observer's thread, which must be quick.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dbheal_lsp.config import DEFAULT_EXCLUDE
from dbheal_lsp.languages import SOURCE_EXTENSIONS

#: Folder names whose contents are never reported (nor watched, at the top level).
SKIP_DIRS: frozenset[str] = frozenset(
    {".venv", "venv", ".git", "node_modules", "__pycache__", ".dbheal", "build", "dist"}
) | frozenset(DEFAULT_EXCLUDE)

FileKind = Literal["database", "migration", "source"]


@dataclass(frozen=True)
class FolderContents:
    """What a folder that just became watched holds that the watcher must report."""

    source_files: tuple[Path, ...] = ()
    migrations: bool = False  # it is (or holds) the migrations folder
    database: bool = False  # it is (or holds) the database's folder

    def __bool__(self) -> bool:
        return bool(self.source_files) or self.migrations or self.database


@dataclass(frozen=True)
class WatchedPaths:
    """The places of one workspace, as absolute path strings: the root, the migrations folder,
    the database's files and folder, and the folder names that are skipped."""

    root: str
    migrations: str | None
    db_files: frozenset[str]  # the database, its -wal and its -journal
    db_parent: str | None
    skip: frozenset[str]

    @classmethod
    def of(
        cls, root: Path, migrations: Path | None, database: Path | None, skip: Iterable[str]
    ) -> WatchedPaths:
        """Return the places of the workspace `root` (the other paths already absolute)."""
        db = str(database) if database is not None else None
        return cls(
            root=str(root),
            migrations=str(migrations) if migrations is not None else None,
            db_files=frozenset({db, db + "-wal", db + "-journal"}) if db else frozenset(),
            db_parent=os.path.dirname(db) if db else None,
            skip=frozenset(skip),
        )

    def file_kind(self, path: str) -> FileKind | None:
        """Return what a change of the file `path` concerns, or None if nothing reported."""
        if path in self.db_files:
            return "database"
        if self.in_migrations(path) and path.lower().endswith(".sql"):
            return "migration"
        if path.endswith(SOURCE_EXTENSIONS) and self.in_workspace(path):
            return "source"
        return None

    def in_migrations(self, path: str) -> bool:
        """Return whether `path` is the migrations folder or under it."""
        folder = self.migrations
        return folder is not None and (path == folder or path.startswith(folder + os.sep))

    def in_workspace(self, path: str) -> bool:
        """Return whether `path` is under the root and in no skipped folder."""
        root = self.root
        if not path.startswith(root + os.sep):
            return False
        folders = path[len(root) + 1 :].split(os.sep)[:-1]
        return not any(part in self.skip for part in folders)

    def is_structural(self, path: str) -> bool:
        """Return whether a folder event at `path` may change what has to be watched."""
        if os.path.dirname(path) == self.root or path == self.root:
            return True
        for target in (self.migrations, self.db_parent):
            if target and (target == path or target.startswith(path + os.sep)):
                return True
        return False

    def desired(self) -> dict[str, bool]:
        """Return the folders to watch now (those that exist), each with whether recursively."""
        desired: dict[str, bool] = {}
        root = self.root
        if os.path.isdir(root):
            desired[root] = False
            try:
                with os.scandir(root) as entries:
                    for entry in entries:
                        if entry.name not in self.skip and entry.is_dir(follow_symlinks=False):
                            desired[entry.path] = True
            except OSError:
                pass
        folder = self.migrations
        if folder is not None and os.path.isdir(folder) and not _covered(desired, folder, True):
            desired[folder] = True
        parent = self.db_parent
        if parent is not None and os.path.isdir(parent) and not _covered(desired, parent, False):
            desired[parent] = False
        return desired

    def contents(self, folder: str, recursive: bool) -> FolderContents:
        """Return what `folder`, just watched, holds: its events came before its watch did."""
        sources: list[Path] = []
        if self.in_workspace(os.path.join(folder, "x")) or folder == self.root:
            for current, dirs, files in os.walk(folder):
                dirs[:] = [d for d in dirs if d not in self.skip] if recursive else []
                sources.extend(Path(current, n) for n in files if n.endswith(SOURCE_EXTENSIONS))
        migrations = self.migrations is not None and (
            self.in_migrations(folder)
            or (recursive and self.migrations.startswith(folder + os.sep))
        )
        db_parent = self.db_parent
        database = db_parent is not None and (
            db_parent == folder or (recursive and db_parent.startswith(folder + os.sep))
        )
        return FolderContents(tuple(sources), migrations, database)


def _covered(desired: dict[str, bool], folder: str, recursive: bool) -> bool:
    """Whether the watches in `desired` already see every event `folder` needs."""
    for key, key_recursive in desired.items():
        if folder == key and (key_recursive or not recursive):
            return True
        if key_recursive and folder.startswith(key + os.sep):
            return True
    return False


def folder_identity(folder: str) -> tuple[int, int] | None:
    """Return the (device, inode) of `folder`, which tell it was replaced, or None if it is gone."""
    try:
        stat = os.stat(folder)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)
