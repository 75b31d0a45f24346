"""The one place that opens files a repository provides, and that makes dbheal's own folders.

A repository may be written by an attacker, and dbheal reads it the moment an editor opens the
folder. So every file it provides is opened here: without blocking (a FIFO named `x.py` must not
hang the scan), checked on the open descriptor to be a regular file no larger than a limit (a
link to `/dev/zero` must not eat memory), and, given the project root, refused when its real
path is outside the project (a link to `~/.ssh/id_rsa` must not end up in a CI log).

`.dbheal/` is dbheal's: `private_dir` creates it (mode 0700, with a `.gitignore` of `*`, so its
backups never show up in `git status`) and refuses it, or any folder in it that dbheal uses, when
it is a symbolic link — a committed `.dbheal/backups -> ../..` must not make pruning delete the
user's other projects. Files in it are created by `mkstemp` or `O_NOFOLLOW`, never by following
a predictable name.

The result cache is not in the project at all: `project_cache_dir` is a folder of the user's
cache directory, so a cache committed into a repository is never believed.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import io
import os
import stat
import sys
import tempfile
import tokenize
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "MAX_TEXT_BYTES",
    "MB",
    "PRIVATE_DIR",
    "FileRefused",
    "SourceNotText",
    "UnsafeStateDir",
    "atomic_write",
    "check_private_dir",
    "create_private_file",
    "ensure_dir",
    "is_inside",
    "open_private_file",
    "private_dir",
    "project_cache_dir",
    "python_source",
    "read_regular_file",
    "read_source",
    "read_text",
    "refuse_links",
    "relative_path",
    "text_hash",
    "user_cache_dir",
]

MB = 1_000_000
#: The largest text file (a module, a migration) that dbheal reads to show its lines.
MAX_TEXT_BYTES = 50 * MB
PRIVATE_DIR = ".dbheal"
CACHE_ENV = "DBHEAL_CACHE_DIR"
GITIGNORE_TEXT = "*\n"
_CHUNK = 1 << 20


class FileRefused(OSError):
    """dbheal will not read a file; `reason` is the short cause ("not a regular file")."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class UnsafeStateDir(OSError):
    """`.dbheal/` (or a folder or file in it that dbheal uses) is a link or not what it should
    be: dbheal refuses to use it rather than write or delete through it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- reading what the repository provides -------------------------------------------------------


def is_inside(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """Return whether the real path of `path` (every link followed) is `root` or under it."""
    real = os.path.realpath(os.fspath(path))
    base = os.path.realpath(os.fspath(root))
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def size_text(limit: int) -> str:
    """Return `limit` bytes as people say it: "5 MB", "512 KB"."""
    if limit >= MB:
        return f"{limit / MB:g} MB"
    return f"{limit / 1000:g} KB" if limit >= 1000 else f"{limit} bytes"


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    root: str | os.PathLike[str] | None = None,
) -> bytes:
    """Return the bytes of the regular file at `path`, or raise.

    Raises FileRefused when the file is not a regular file (a FIFO, a device, a folder), is
    larger than `max_bytes`, or — when `root` is given — when its real path is outside `root`
    ("links out of the project"); OSError (FileNotFoundError, PermissionError) when it cannot
    be opened. Never blocks on a FIFO and never reads more than `max_bytes` + 1 bytes.
    """
    if root is not None and not is_inside(path, root):
        raise FileRefused(path, "links out of the project")
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        # Checked on the open descriptor, not the name: the name may be swapped meanwhile.
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(path, "not a regular file")
        if info.st_size > max_bytes:
            raise FileRefused(path, f"larger than {size_text(max_bytes)}")
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            try:
                chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files never block
                break
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:  # it grew after fstat
            raise FileRefused(path, f"larger than {size_text(max_bytes)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_TEXT_BYTES,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Return the text of the regular file at `path` (UTF-8, undecodable bytes replaced), as
    `read_regular_file` reads it (FileRefused, an OSError, for what it refuses)."""
    return read_regular_file(path, max_bytes=max_bytes, root=root).decode("utf-8", "replace")


class SourceNotText(ValueError):
    """A Python file's bytes are not text as Python reads them; `reason` says why, in the
    words of a note ("not UTF-8 text (byte 12)")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def python_source(data: bytes) -> str:
    """Return the text of a Python source file's bytes, decoded as Python decodes them.

    The rules of `tokenize.open` (PEP 263 and PEP 3120): a UTF-8 BOM, else a coding line in
    the first two lines (`# -*- coding: latin-1 -*-`), else UTF-8. The BOM is dropped; line
    ends are kept as they are (positions count them). Raises SourceNotText when the bytes
    cannot be decoded so, or the coding line names an encoding Python does not know.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # An unknown encoding, a BOM with another coding line, or a first line not UTF-8.
        raise SourceNotText(_cookie_reason(data, exc)) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding
        said = "" if name == "UTF-8" else ", as its coding line says"
        raise SourceNotText(f"not {name} text (byte {exc.start}){said}") from None
    return text.removeprefix("\ufeff")


def python_encoding(data: bytes) -> str:
    """Return the encoding a Python source file's bytes are written in, as Python reads it
    ("utf-8-sig" for a BOM, the coding line's, else "utf-8"): what a rewrite must write."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def read_source(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_TEXT_BYTES,
    root: str | os.PathLike[str] | None = None,
) -> str:
    """Return the text of a source file to show or count columns in: as `python_source`
    decodes it, else (undecodable) UTF-8 with bad bytes replaced; read as `read_text` reads."""
    data = read_regular_file(path, max_bytes=max_bytes, root=root)
    try:
        return python_source(data)
    except SourceNotText:
        return data.decode("utf-8", "replace")


def _cookie_reason(data: bytes, exc: SyntaxError) -> str:
    """The note for a file whose first lines `tokenize.detect_encoding` refuses."""
    message = str(exc.msg if exc.msg else exc)
    if message.startswith("unknown encoding"):
        return f"its coding line names an {message.split(' for ')[0]}"
    if "encoding problem" in message:
        return "its coding line contradicts its UTF-8 BOM"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"not UTF-8 text (byte {err.start})"
    return f"not Python source text ({message})"  # pragma: no cover - other tokenize errors


# --- dbheal's own folder ------------------------------------------------------------------------


def _link_message(path: Path) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return (
        f"{path} is a symbolic link (to {target}); dbheal refuses to use a linked .dbheal "
        "(remove the link and run again)"
    )


def _checked_folder(folder: Path) -> None:
    """Raise UnsafeStateDir unless `folder` is a real folder (not a link), tightened to 0700."""
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeStateDir(_link_message(folder))
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeStateDir(f"{folder} is not a folder; dbheal refuses to use it (remove it)")
    getuid = getattr(os, "getuid", None)
    if stat.S_IMODE(info.st_mode) & 0o077 and (getuid is None or info.st_uid == getuid()):
        # Backups hold whole databases: other users of the machine must not read them.
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)


def refuse_links(folder: Path, *names: str) -> None:
    """Raise UnsafeStateDir if any of `names` in `folder` exists as a symbolic link or as
    something other than a regular file (a file that dbheal would open by name)."""
    for name in names:
        path = Path(folder) / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode):
            raise UnsafeStateDir(_link_message(path))
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeStateDir(f"{path} is not a regular file; dbheal refuses to use it")


def private_dir(root: str | os.PathLike[str], *parts: str) -> Path:
    """Return `<root>/.dbheal/<parts...>`, each folder created with mode 0700 if missing, and
    `.dbheal/.gitignore` holding `*` (so `git status` never shows it).

    Raise UnsafeStateDir (message naming the link) if `.dbheal` or any folder below it on the
    way is a symbolic link or not a folder; OSError if a folder cannot be created.
    """
    folder = Path(root) / PRIVATE_DIR
    for index, name in enumerate(("", *parts)):
        if name:
            if name in (".", "..") or "/" in name or os.sep in name:
                raise UnsafeStateDir(f"{name!r} is not a folder name dbheal uses")
            folder = folder / name
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        _checked_folder(folder)
        if index == 0:
            _ensure_gitignore(folder)
    return folder


def check_private_dir(root: str | os.PathLike[str], *subfolders: str) -> Path:
    """Return `private_dir(root)` after checking that those of `subfolders` that exist are
    real folders too (UnsafeStateDir otherwise): one clear refusal up front, instead of one
    per backup or lock later."""
    folder = private_dir(root)
    for name in subfolders:
        if os.path.lexists(folder / name):
            private_dir(root, name)
    return folder


def ensure_dir(folder: str | os.PathLike[str]) -> Path:
    """Create `folder` (and its parents) if needed and return it; the part of it inside a
    `.dbheal` folder goes through `private_dir` (0700, never through a link).

    For code that is given a destination, such as a backup folder, which is under `.dbheal/`
    whenever dbheal chose it."""
    path = Path(folder)
    parts = path.parts
    if PRIVATE_DIR in parts:
        at = parts.index(PRIVATE_DIR)
        return private_dir(Path(*parts[:at]) if at else Path("."), *parts[at + 1 :])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ensure_gitignore(folder: Path) -> None:
    path = folder / ".gitignore"
    try:
        info = os.lstat(path)
        if stat.S_ISREG(info.st_mode) and info.st_size == len(GITIGNORE_TEXT):
            with open(path, "rb") as handle:  # a regular file (lstat): no link, no FIFO
                if handle.read(64) == GITIGNORE_TEXT.encode():
                    return
    except FileNotFoundError:
        pass
    except OSError:
        return  # a read-only checkout still works; only git status shows the folder
    # Replaced, not written through: a committed `.gitignore` link is replaced by a file.
    with contextlib.suppress(OSError):
        atomic_write(path, GITIGNORE_TEXT.encode(), mode=0o644)


def create_private_file(folder: Path, prefix: str, suffix: str = "") -> tuple[int, Path]:
    """Create a new file (mode 0600, O_EXCL: never an existing name or link) in `folder` and
    return its open descriptor and path; the caller closes the descriptor."""
    fd, name = tempfile.mkstemp(dir=os.fspath(folder), prefix=prefix, suffix=suffix)
    return fd, Path(name)


def open_private_file(path: Path) -> int:
    """Open (creating with mode 0600 if needed) the file at `path` for reading and writing,
    without following a link at its name; return the descriptor (the caller closes it).

    For files that must have a known name, such as lock files. Raise UnsafeStateDir if the
    name is a link or not a regular file."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeStateDir(_link_message(path)) from exc
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeStateDir(f"{path} is not a regular file; dbheal refuses to use it")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return fd


def text_hash(text: str) -> str:
    """Return the hash dbheal keys a text by (a buffer, a file's content, a fix's source): 32 hex
    digits of BLAKE2b. Encoded with `surrogatepass`, so text decoded with `surrogateescape`
    (bytes that were not UTF-8) hashes instead of raising."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def relative_path(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """Return `path` as people read it in output: relative to `root` with forward slashes when
    it is inside it, else its absolute resolved path. A relative `path` is taken from `root`."""
    path, root = Path(path), Path(root)
    if not path.is_absolute():
        path = root / path
    text, base = str(path), str(root)
    if text.startswith(base + os.sep) and ".." not in path.parts:
        # The common case, a file found under an already resolved root: no filesystem calls.
        return text[len(base) + 1 :].replace(os.sep, "/")
    try:
        resolved = path.resolve()
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()
    except OSError:  # a loop of links: say the path as given
        return path.as_posix()


def atomic_write(target: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace `target` with `data`: a new file beside it (mkstemp), flushed to disk, then
    renamed over it, so a reader sees the old or the new content, never half of it, and a
    link at `target` is replaced rather than written through. `mode` sets the permission bits
    (mkstemp's 0600 otherwise)."""
    target = Path(target)
    fd, temp = create_private_file(target.parent, f".{target.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode & 0o7777)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


# --- the user's cache ---------------------------------------------------------------------------


def user_cache_dir() -> Path:
    """Return dbheal's folder in the user's cache directory: `$DBHEAL_CACHE_DIR`, else
    `$XDG_CACHE_HOME/dbheal`, else `~/.cache/dbheal` (`%LOCALAPPDATA%\\dbheal` on Windows)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "dbheal"
    if sys.platform == "win32":  # pragma: no cover - Windows
        local = os.environ.get("LOCALAPPDATA")
        if local:
            return Path(local) / "dbheal"
    return Path.home() / ".cache" / "dbheal"


def project_cache_dir(root: str | os.PathLike[str]) -> Path:
    """Return (creating it, mode 0700) the user-cache folder of the project at `root`: one per
    resolved root, named by its hash. Raise OSError if it cannot be created or is not a
    folder of this user."""
    base = user_cache_dir()
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    real = os.path.realpath(os.fspath(root))
    name = hashlib.sha256(real.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    folder = base / name
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    info = os.lstat(folder)
    getuid = getattr(os, "getuid", None)
    if not stat.S_ISDIR(info.st_mode) or (getuid is not None and info.st_uid != getuid()):
        raise UnsafeStateDir(f"{folder} is not a cache folder of this user; dbheal will not use it")
    return folder
