"""Undoing a fix's edit of a file that was edited again since, keeping those later edits.

A rollback used to put back the whole file as it was before the fix: whatever the user wrote
in it afterwards vanished from the working tree (kept only in the rollback's own backup). Now
the fix's backup holds the file before the fix and as the fix wrote it, so the fix's own
hunks can be reversed on the file as it is today, as `git revert` would: each line the fix
wrote must still be there, unchanged and in one piece; then it is replaced by what was there
before. When a later edit touched the fix's lines, there is no right answer to guess: the
rollback refuses, naming the line, and changes nothing.

Files are compared as bytes, line by line (a file's encoding is its own business here). A fix
recorded before the backup held the written files is rolled back as before: the whole file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from dbheal_lsp.analysis.file_scan import MAX_FILE_BYTES
from dbheal_lsp.backups import (
    FILES_SUBDIR,
    WRITTEN_SUBDIR,
    BackupError,
    backup_files,
    has_file_backup,
)
from dbheal_lsp.files import FileRefused, atomic_write, read_regular_file

__all__ = ["FileSteps", "Undone", "file_steps", "keep_written", "undo_edits", "undone_edit"]


@dataclass(frozen=True)
class FileSteps:
    """How a rollback puts a fix's files back: restored from the backup whole (unchanged since
    the fix, or a fix recorded without its written copy), the fix's edit undone in a file
    edited since, or deleted (the fix created it)."""

    restorable: tuple[str, ...] = ()
    undone: tuple[str, ...] = ()
    created: tuple[str, ...] = ()


def keep_written(root: Path, backup_dir: Path, rel: str) -> None:
    """Keep the file `rel` as the fix whose backup is `backup_dir` wrote it, so that a rollback
    after later edits undoes only the fix's edit. Without it (a full disk), a rollback falls
    back to restoring the whole file, the edits since kept in its own backup."""
    with contextlib.suppress(OSError, BackupError):
        backup_files(root, [rel], backup_dir / WRITTEN_SUBDIR)


def file_steps(root: Path, backup_dir: str, files: Sequence[str]) -> FileSteps:
    """Return how rolling back the fix whose backup is `backup_dir` puts `files` back; raise
    ValueError, saying which file and line, when one was edited since where the fix wrote (or
    is not a regular file of the project, or a path outside it: a history may be a stranger's)."""
    restorable: list[str] = []
    undone: list[str] = []
    created: list[str] = []
    for rel in files:
        had, wrote, current = _versions(root, backup_dir, rel)
        if wrote is None or current is None or current == wrote:
            # As the fix left it, or gone since: putting back the file before the fix (or
            # deleting the one it created) loses nothing written since.
            (restorable if had is not None else created).append(rel)
        elif had is None:
            raise ValueError(f"{rel} was edited since the fix created it")
        else:
            result = undone_edit(had, wrote, current)
            if result.data is None:
                raise ValueError(
                    f"{rel} was edited since the fix, where the fix changed it (line "
                    f"{result.conflict_line} as the fix wrote it)"
                )
            undone.append(rel)
    return FileSteps(tuple(restorable), tuple(undone), tuple(created))


def undo_edits(root: Path, backup_dir: str, files: Sequence[str]) -> None:
    """Reverse the fix's edit in each of `files` (see `file_steps`), each file replaced
    atomically with its permission bits; raise BackupError when one changed since the plan."""
    for rel in files:
        try:
            had, wrote, current = _versions(root, backup_dir, rel)
        except ValueError as exc:
            raise BackupError(f"cannot undo the fix's edit of {rel}: {exc}") from None
        if had is None or wrote is None or current is None:
            raise BackupError(f"cannot undo the fix's edit of {rel}: its backup is missing")
        result = undone_edit(had, wrote, current)
        if result.data is None:
            raise BackupError(f"cannot undo the fix's edit of {rel}: it changed meanwhile")
        live = root / rel
        atomic_write(live, result.data, mode=os.stat(live).st_mode)


def _versions(
    root: Path, backup_dir: str, rel: str
) -> tuple[bytes | None, bytes | None, bytes | None]:
    """The file `rel` before the fix, as the fix wrote it, and now (None: no such version);
    ValueError when `rel` is no path inside the project or not a regular file of it."""
    try:
        had = _copy(root / backup_dir / FILES_SUBDIR, rel)
        wrote = _copy(root / backup_dir / WRITTEN_SUBDIR, rel)
        current = read_regular_file(root / rel, max_bytes=MAX_FILE_BYTES, root=root)
    except FileNotFoundError:
        current = None
    except BackupError as exc:
        raise ValueError(str(exc)) from None
    except FileRefused as exc:
        raise ValueError(f"{rel}: {exc.reason}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {rel}: {exc.strerror or exc}") from None
    return (
        had.read_bytes() if had is not None else None,
        wrote.read_bytes() if wrote is not None else None,
        current,
    )


def _copy(folder: Path, rel: str) -> Path | None:
    copy = folder.joinpath(*Path(rel).parts)
    return copy if has_file_backup(folder, rel) and copy.is_file() else None


@dataclass(frozen=True)
class Undone:
    """The file with the fix's edit reversed (`data`), or why it cannot be (`conflict_line`:
    the 1-based line of the file as the fix wrote it where a later edit touched the fix's
    lines; 0 when `data` is set)."""

    data: bytes | None
    conflict_line: int = 0


def undone_edit(before: bytes, written: bytes, current: bytes) -> Undone:
    """Return `current` with the edit that turned `before` into `written` reversed, every other
    change of `current` kept; or the line where the two overlap."""
    old, new, now = _lines(before), _lines(written), _lines(current)
    where = _positions(new, now)
    hunks = [
        op
        for op in SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        if op[0] != "equal"
    ]
    replaced: list[tuple[int, int, list[bytes]]] = []
    for _tag, i1, i2, j1, j2 in hunks:
        span = _span(where, j1, j2, len(new))
        if span is None:
            return Undone(None, conflict_line=min(j1, max(len(new) - 1, 0)) + 1)
        replaced.append((span[0], span[1], old[i1:i2]))
    out = list(now)
    for start, end, lines in reversed(replaced):
        out[start:end] = lines
    return Undone(b"".join(out))


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _positions(new: list[bytes], now: list[bytes]) -> dict[int, int]:
    """Map each line of `new` still in `now`, unchanged, to its index there."""
    where: dict[int, int] = {}
    for a, b, size in SequenceMatcher(None, new, now, autojunk=False).get_matching_blocks():
        for k in range(size):
            where[a + k] = b + k
    return where


def _span(where: dict[int, int], j1: int, j2: int, new_len: int) -> tuple[int, int] | None:
    """Return where lines j1..j2 of the written file are in the current one, the lines on
    either side still next to them (nothing was written into or against the hunk; at the
    file's start or end, lines added beyond it are no conflict); None when they are not."""
    if j1 < j2:
        start = where.get(j1)
        if start is None or any(where.get(k) != start + (k - j1) for k in range(j1, j2)):
            return None
    elif j1 < new_len:  # the fix deleted lines before line j1: that line is the anchor
        start = where.get(j1)
        if start is None:
            return None
    else:  # ... at the end of the file: after its last line
        last = where.get(j1 - 1) if j1 > 0 else -1
        if last is None:
            return None
        start = last + 1
    end = start + (j2 - j1)
    if j1 > 0 and where.get(j1 - 1) != start - 1:
        return None
    if j2 < new_len and where.get(j2) != end:
        return None
    return start, end
