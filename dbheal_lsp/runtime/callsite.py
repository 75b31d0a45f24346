"""Where the application is: the file and line of its call among the frames of the stack.

Used for the project a connection belongs to (the file that opened it) and for the path and
line an event records (the call that hit the error).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

__all__ = ["app_frame", "app_frames", "caller_file", "location"]

# dbheal's own package (not only this folder): its frames are never the application's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_SQLITE_DIR = os.path.dirname(os.path.abspath(sqlite3.__file__)) + os.sep

#: (file, line, is library) of one frame.
Frame = tuple[str, int, bool]


def _internal_dirs() -> tuple[str, ...]:
    dirs = [_PACKAGE_DIR, _SQLITE_DIR]
    sqlalchemy = sys.modules.get("sqlalchemy")
    location = getattr(sqlalchemy, "__file__", None)
    if location:
        dirs.append(os.path.dirname(os.path.abspath(location)) + os.sep)
    return tuple(dirs)


# The interpreter's library folders are fixed for the life of the process: a memo, not state,
# computed at the first error rather than at import (sysconfig costs an application's start-up).
@functools.cache
def _library_prefixes() -> tuple[str, ...]:
    import sysconfig

    paths = sysconfig.get_paths()
    found = {os.path.abspath(paths[k]) + os.sep for k in ("stdlib", "platstdlib") if k in paths}
    return tuple(sorted(found))


def _is_library(filename: str) -> bool:
    parts = filename.replace("\\", "/").split("/")
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    return filename.startswith(_library_prefixes())


def app_frames() -> list[Frame]:
    """Return (file, line, is library) of the frames outside dbheal, sqlite3 and SQLAlchemy,
    innermost first."""
    internal = _internal_dirs()
    found: list[Frame] = []
    frame: Any = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(internal) and not filename.startswith("<frozen"):
            library = filename.startswith("<") or _is_library(filename)
            found.append((filename, frame.f_lineno, library))
        frame = frame.f_back
    return found


def app_frame(frames: list[Frame], root: Path | None = None) -> tuple[str, int] | None:
    """Return the file and line of the application's call among `frames` (from app_frames):
    the innermost frame in the project `root`, else the innermost outside the standard library
    and site-packages (under a library that ran the query, say), else the innermost."""
    if root is not None:
        prefix = str(root) + os.sep
        for filename, line, _ in frames:
            if filename.startswith(prefix):
                return filename, line
    for filename, line, library in frames:
        if not library:
            return filename, line
    return (frames[0][0], frames[0][1]) if frames else None


def caller_file() -> str | None:
    """Return the application's file that called into the wrapper, if it has one."""
    found = app_frame(app_frames())
    if found is None or found[0].startswith("<"):
        return None
    return found[0]


def location(root: Path, where: tuple[str, int] | None) -> dict[str, Any]:
    """The path (relative to the root when inside it) and line of an event."""
    if where is None or where[0].startswith("<"):  # <stdin>, <string>: no file to point at
        return {"path": None, "line": None}
    from dbheal_lsp.files import relative_path

    return {"path": relative_path(where[0], root), "line": where[1]}
