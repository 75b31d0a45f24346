"""Why SQLite could not change a database, said in a sentence: a file that is missing,
read-only or a folder, read from the file, and a lock or a read-only connection, read from
SQLite's errors. The fix back end (`databases/sqlite/schema_fixes.py`) gives them to the
executor.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

__all__ = ["connection_error", "file_problem", "is_busy", "is_read_only"]

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8


def _error_code(exc: sqlite3.Error) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether `exc` says another connection holds the database locked."""
    text = str(exc).lower()
    return _error_code(exc) in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text


def is_read_only(exc: sqlite3.Error) -> bool:
    """Whether `exc` says the database cannot be written."""
    return _error_code(exc) == _SQLITE_READONLY or "readonly database" in str(exc).lower()


def file_problem(path: Path) -> str | None:
    """Return why the database file at `path` cannot be changed, or None if it can."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"database file not found: {path}"
    except OSError as exc:
        return f"cannot read database file {path}: {exc.strerror or exc}"
    if stat.S_ISDIR(info.st_mode):
        return f"{path} is a directory, not a SQLite database file"
    if not os.access(path, os.R_OK):
        return f"permission denied: cannot read database file {path}"
    # root may write any file, so os.access alone would let root change a file its owner made
    # read-only: a file without any write permission bit is read-only for everybody here.
    if not os.access(path, os.W_OK) or not info.st_mode & (
        stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    ):
        return f"database is read-only: {path}"
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"database is read-only: {path} (its folder is not writable, so SQLite cannot "
            "write its journal)"
        )
    return None


def connection_error(exc: sqlite3.Error, path: Path) -> str:
    """Say in a sentence why SQLite could not use the database at `path`."""
    if is_busy(exc):
        return f"database is locked by another connection: {path}"
    if is_read_only(exc):
        return f"database is read-only: {path}"
    return f"cannot use database {path}: {exc}"
