"""One writer per database at a time, across threads and processes.

Before dbheal changes a database (applies a plan, restores a backup) it takes the database's lock:
a file `<root>/.dbheal/locks/<sha1 of the resolved database path>.lock`, held with an exclusive
`fcntl.flock`. flock locks belong to an open file description, so two threads of one process that
each open the lock file exclude each other as two processes do, and the kernel releases the lock
when a process dies: there is no stale lock to clean up. The lock file itself is never deleted
(deleting it while another process waits on it would let two holders in).

Taking the lock polls until a timeout, then raises `LockTimeout` with a message a person can act
on. The lock is not re-entrant: a thread that holds it and asks again waits for itself.

Windows has no flock: there `msvcrt.locking` locks the file's first byte, which also dies with
the process. Where neither exists, an `O_CREAT | O_EXCL` lock file holding the owner's process id
is used, and is taken over when that process is gone or the file is older than `stale_after`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from dbheal_lsp.files import ensure_dir, open_private_file

if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    _HAVE_FCNTL = False
else:
    try:
        import fcntl

        _HAVE_FCNTL = True
    except ImportError:  # pragma: no cover - a POSIX without fcntl (WASI)
        _HAVE_FCNTL = False

__all__ = [
    "LOCKS_DIR",
    "LockTimeout",
    "database_lock",
    "files_lock",
    "lock_path",
    "path_lock",
]

LOCKS_DIR = Path(".dbheal") / "locks"
POLL_SECONDS = 0.05


class LockTimeout(TimeoutError):
    """Another dbheal thread or process held the lock for longer than the timeout."""

    def __init__(self, message: str, lock_file: Path) -> None:
        super().__init__(message)
        self.lock_file = lock_file


def lock_path(root: Path, db_path: Path) -> Path:
    """Return the lock file of the database at `db_path` for the project at `root`."""
    key = str(Path(db_path).resolve())
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()
    return Path(root) / LOCKS_DIR / f"{digest}.lock"


@contextmanager
def database_lock(db_path: Path, timeout: float, *, root: Path | None = None) -> Iterator[Path]:
    """Hold the lock of the database at `db_path` for the `with` block, waiting at most
    `timeout` seconds for it, else raise LockTimeout ("another dbheal process is changing
    PATH; try again"). `root` is the project root whose `.dbheal/locks/` holds the lock file;
    it defaults to the root found from the database's folder (as `dbheal_lsp.config.find_root`
    finds it), so pass it whenever it is known. Yields the lock file's path."""
    if root is None:
        from dbheal_lsp.config import find_root  # only when needed: config reads pyproject files

        root = find_root(Path(db_path).resolve().parent)
    with path_lock(lock_path(root, db_path), timeout, what=str(db_path)) as held:
        yield held


@contextmanager
def files_lock(root: Path, timeout: float) -> Iterator[Path]:
    """Hold the lock that guards dbheal's changes to the source files of the project at `root`
    (used to restore code fixes), or raise LockTimeout after `timeout` seconds."""
    lock_file = Path(root) / LOCKS_DIR / "files.lock"
    with path_lock(lock_file, timeout, what=f"the files of {root}") as held:
        yield held


@contextmanager
def path_lock(lock_file: Path, timeout: float, *, what: str) -> Iterator[Path]:
    """Hold an exclusive lock on `lock_file` (created with its folder if needed) for the `with`
    block, or raise LockTimeout after `timeout` seconds; `what` names the locked thing in the
    message."""
    lock_file = Path(lock_file)
    ensure_dir(lock_file.parent)  # under .dbheal/: 0700, and never a link
    if sys.platform == "win32":  # pragma: no cover - Windows
        manager = _msvcrt_lock(lock_file, timeout, what)
    elif _HAVE_FCNTL:
        manager = _flock(lock_file, timeout, what)
    else:  # pragma: no cover - neither
        manager = _exclusive_file_lock(lock_file, timeout, what)
    with manager:
        yield lock_file


def _timeout_error(lock_file: Path, timeout: float, what: str, holder: str) -> LockTimeout:
    held_by = f" (held by {holder})" if holder else ""
    return LockTimeout(
        f"another dbheal process is changing {what}; try again "
        f"(waited {timeout:g} s for {lock_file}{held_by})",
        lock_file,
    )


def _owner_text() -> str:
    return f"{socket.gethostname()} {os.getpid()} {time.time():.0f}\n"


def _describe_holder(text: str) -> str:
    parts = text.split()
    if len(parts) >= 2 and parts[1].isdigit():
        return f"process {parts[1]} on {parts[0]}"
    return ""


if sys.platform == "win32":  # pragma: no cover - Windows

    @contextmanager
    def _msvcrt_lock(lock_file: Path, timeout: float, what: str) -> Iterator[None]:
        deadline = time.monotonic() + max(timeout, 0.0)
        with open(lock_file, "a+b") as handle:
            while True:
                try:
                    handle.seek(0)
                    # Locks one byte (beyond the end of an empty file, which Windows allows).
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        raise _timeout_error(lock_file, timeout, what, "") from None
                    time.sleep(POLL_SECONDS)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:

    @contextmanager
    def _flock(lock_file: Path, timeout: float, what: str) -> Iterator[None]:
        deadline = time.monotonic() + max(timeout, 0.0)
        # Created without truncating it, so a waiter can read who holds it, and without
        # following a link planted at its (predictable) name.
        with os.fdopen(open_private_file(lock_file), "r+", encoding="utf-8") as handle:
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        handle.seek(0)
                        holder = _describe_holder(handle.read())
                        raise _timeout_error(lock_file, timeout, what, holder) from None
                    time.sleep(POLL_SECONDS)
            try:
                _write_owner(handle)
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_owner(handle: IO[str]) -> None:
    # Only informational (for the timeout message): the lock is the flock, not this text.
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(_owner_text())
        handle.flush()
    except OSError:
        pass


STALE_AFTER_SECONDS = 3600.0
BREAK_STALE_SECONDS = 30.0


@contextmanager
def _exclusive_file_lock(
    lock_file: Path, timeout: float, what: str, stale_after: float = STALE_AFTER_SECONDS
) -> Iterator[None]:
    """The last resort: the lock is the existence of `<lock_file>.excl`, created atomically."""
    marker = lock_file.with_name(lock_file.name + ".excl")
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            holder_text = _read_text(marker)
            if _is_stale(marker, holder_text, stale_after):
                _break_stale(marker, stale_after)
                continue
            if time.monotonic() >= deadline:
                raise _timeout_error(
                    lock_file, timeout, what, _describe_holder(holder_text)
                ) from None
            time.sleep(POLL_SECONDS)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_owner_text())
        break
    try:
        yield
    finally:
        with suppress(FileNotFoundError):
            os.unlink(marker)


def _break_stale(marker: Path, stale_after: float) -> None:
    # Breaking is itself guarded by an O_EXCL file, and staleness is checked again while it is
    # held: two waiters that both saw the dead holder's marker must not both delete a marker,
    # or the second would delete the one the first has just created.
    breaker = marker.with_name(marker.name + ".break")
    try:
        fd = os.open(breaker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        try:
            # A breaker that died between these few lines leaves its file: forget it soon.
            if time.time() - breaker.stat().st_mtime > BREAK_STALE_SECONDS:
                os.unlink(breaker)
        except OSError:
            pass
        time.sleep(POLL_SECONDS)
        return
    os.close(fd)
    try:
        if _is_stale(marker, _read_text(marker), stale_after):
            with suppress(FileNotFoundError):
                os.unlink(marker)
    finally:
        os.unlink(breaker)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _is_stale(marker: Path, holder_text: str, stale_after: float) -> bool:
    try:
        age = time.time() - marker.stat().st_mtime
    except FileNotFoundError:
        return False  # released meanwhile: just try again
    if age > stale_after:
        return True
    parts = holder_text.split()
    if len(parts) >= 2 and parts[0] == socket.gethostname() and parts[1].isdigit():
        return not _process_alive(int(parts[1]))
    # An empty marker is a holder between creating and writing it, unless it is old.
    return False


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (owned by someone else) or we cannot tell: assume alive
    return True
