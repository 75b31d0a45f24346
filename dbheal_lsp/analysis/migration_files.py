"""Migration files and their formats: which files, in which order, and the statements of each.

Migration files are plain `*.sql` files run in natural order, golang-migrate `NNN_x.up.sql`
files, diesel `NAME/up.sql` folders, and single files with goose (`-- +goose Up`) or dbmate
(`-- migrate:up`) sections, of which only the up part runs. Files are read only as regular
files of a sane size inside the project.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

from dbheal_lsp.analysis.sqllex import (
    comment_end,
    quoted_end,
    skip_trivia,
)
from dbheal_lsp.databases import complete_statement

_GOOSE_MARK = re.compile(r"^\s*--\s*\+goose\s+(up|down)\b", re.IGNORECASE)
_DBMATE_MARK = re.compile(r"^\s*--\s*migrate:(up|down)\b", re.IGNORECASE)
_NUMBER_RUNS = re.compile(r"(\d+)")


def _natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    # re.split with a group alternates text and digits, so ints only ever meet ints.
    parts = _NUMBER_RUNS.split(name.lower())
    return tuple(int(p) if n % 2 else p for n, p in enumerate(parts)), name


def migration_files(folder: Path) -> list[Path]:
    """Return the migration files of `folder` in natural order ("2_x" before "10_x").

    Takes `*.sql` files but not golang-migrate's `*.down.sql`, and the `up.sql` of diesel-style
    sub-folders. Raises OSError when `folder` cannot be listed.
    """
    found: list[tuple[tuple[tuple[str | int, ...], str], Path]] = []
    for entry in Path(folder).iterdir():
        name = entry.name
        lowered = name.lower()
        if name.startswith("."):
            continue
        if lowered.endswith(".sql") and not lowered.endswith(".down.sql") and entry.is_file():
            found.append((_natural_key(name), entry))
        elif entry.is_dir() and (entry / "up.sql").is_file():
            found.append((_natural_key(name), entry / "up.sql"))
    found.sort(key=lambda item: item[0])
    return [path for _, path in found]


def up_part(text: str) -> str:
    """Return `text` with everything but its goose/dbmate up sections blanked out.

    Lines are emptied rather than removed so that line numbers stay those of the file. A file
    without section markers is all up.
    """
    lines = text.split("\n")
    marks = [_GOOSE_MARK.match(line) or _DBMATE_MARK.match(line) for line in lines]
    if not any(marks):
        return text
    keep = False
    kept: list[str] = []
    for line, mark in zip(lines, marks, strict=True):
        if mark is not None:
            keep = mark.group(1).lower() == "up"
            kept.append("")
        else:
            kept.append(line if keep else "")
    return "\n".join(kept)


def split_statements(text: str) -> list[tuple[int, str]]:
    """Return the statements of a SQL script as (1-based start line, sql without the ';').

    Semicolons in strings, quoted identifiers and comments do not end a statement, and
    neither do those of a CREATE TRIGGER body: the database's `complete_statement` decides.
    Leading comments are not part of a statement; a script of comments has none.
    """
    newlines = [m.start() for m in re.finditer("\n", text)]
    statements: list[tuple[int, str]] = []

    def emit(begin: int, end: int) -> None:
        first = skip_trivia(text, begin)
        if first < end:
            statements.append((bisect.bisect_left(newlines, first) + 1, text[first:end].rstrip()))

    start = pos = 0
    size = len(text)
    while pos < size:
        char = text[pos]
        if char in "'\"`[":
            pos = quoted_end(text, pos)
        elif char in "-/" and (end := comment_end(text, pos)) != pos:
            pos = end
        elif char == ";":
            if complete_statement(text[start : pos + 1]):
                emit(start, pos)
                start = pos + 1
            pos += 1
        else:
            pos += 1
    emit(start, size)
    return statements


def _read_bytes(path: Path, root: Path | None) -> bytes:
    # Only a regular file of a sane size, inside the project when its root is known
    # (FileRefused, an OSError, otherwise): a FIFO, a link to /dev/zero or a link out of the
    # project among the migrations must not hang the replay, eat memory or be read.
    from dbheal_lsp.files import MAX_TEXT_BYTES, read_regular_file

    return read_regular_file(path, max_bytes=MAX_TEXT_BYTES, root=root)


def read_script(path: Path, root: Path | None = None) -> str:
    """Return the text of the migration file at `path` (read as `_read_bytes` allows)."""
    # utf-8-sig drops a byte-order mark; undecodable bytes should not stop the replay.
    return _read_bytes(path, root).decode("utf-8-sig", errors="replace")
