"""The migrations' schema, replayed again only when a migration file changed (`MigrationCache`).

Asked before every check in the editor, so deciding whether anything changed reads no file:
the key is each migration file's (path, inode, size, mtime, ctime).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from dbheal_lsp.analysis.migration_files import migration_files
from dbheal_lsp.analysis.migrations import MigrationResult
from dbheal_lsp.databases.sqlite.replay import replay_migrations

__all__ = ["MigrationCache"]

_FolderKey = tuple[tuple[str, int, int, int, int], ...]


def _folder_key(folder: Path) -> _FolderKey | None:
    # Called before every check in the editor, so it reads no file. The change time and inode
    # are in the key besides size and mtime: an edit that keeps both (or a file put back by git
    # with an old time) still changes st_ctime, which no program can set back.
    try:
        key = []
        for path in migration_files(folder):
            info = path.stat()
            key.append((str(path), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    except OSError:
        return None
    return tuple(key)


class MigrationCache:
    """Replays a migrations folder again only when one of its files changed, appeared or went.

    The key is (path, inode, size, mtime, ctime) of every migration file, taken before
    replaying, so a file that changes during a replay is replayed again on the next call. With a `root`, files
    that link out of it are not read. Thread-safe.
    """

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[_FolderKey, MigrationResult]] = {}

    def get(self, folder: Path) -> MigrationResult:
        """Return the replayed migrations of `folder`, from the cache when nothing changed."""
        name = os.fspath(folder)
        with self._lock:
            key = _folder_key(Path(folder))
            entry = self._entries.get(name)
            if key is not None and entry is not None and entry[0] == key:
                return entry[1]
            result = replay_migrations(Path(folder), root=self._root)
            if key is None:
                self._entries.pop(name, None)
            else:
                self._entries[name] = (key, result)
            return result

    def clear(self) -> None:
        """Forget every cached result."""
        with self._lock:
            self._entries.clear()
