"""The project's live SQLite database: opened read-only, its errors said plainly, its schema cached.

`open_read_only` checks the file before SQLite opens it, so that an error names the real
problem (missing, a directory, a FIFO, not a database, corrupt, locked) as a `SchemaError`;
`LiveDatabase` keeps one read-only connection and re-reads the schema only when the database
changed (`PRAGMA schema_version`, the file's identity, the content of `sqlite_master`).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import threading
from pathlib import Path
from urllib.parse import quote

from dbheal_lsp.analysis.schema import Schema
from dbheal_lsp.databases.database import DEFAULT_BUSY_TIMEOUT, SchemaError
from dbheal_lsp.databases.sqlite.catalog import is_busy, schema_from_connection

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "SQLITE_HEADER",
    "LiveDatabase",
    "SchemaError",
    "master_digest",
    "open_read_only",
]

SQLITE_HEADER = b"SQLite format 3\x00"


def open_read_only(
    path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> sqlite3.Connection:
    """Open the database file at `path` read-only, or raise SchemaError saying why not.

    The file is checked first (exists, readable, not a directory, has the SQLite header) so
    that the error names the real problem; SQLite itself would only say it cannot open it.
    """
    display = os.fspath(path)
    _check_file(display)
    uri = f"file:{quote(Path(display).resolve().as_posix())}?mode=ro"
    try:
        return sqlite3.connect(
            uri, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise _schema_error(exc, display) from exc


def master_digest(conn: sqlite3.Connection) -> str:
    """Return a hash of the main database's `sqlite_master` (type, name, table, SQL of every
    object): it changes whenever the schema's content does, whatever `schema_version` says."""
    digest = hashlib.blake2b(digest_size=20)
    for row in conn.execute(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY rowid"
    ):
        for value in row:
            digest.update(b"\x00" if value is None else b"\x01")
            digest.update(str(value or "").encode("utf-8", "surrogatepass"))
        digest.update(b"\x02")
    return digest.hexdigest()


def _check_file(path: str) -> None:
    # Opened without blocking and checked on the descriptor: a FIFO or a device named as the
    # database (`/dev/stdin`, a link to `/dev/zero`) must give an error, not hang the server.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(path)
            if not stat.S_ISREG(info.st_mode):
                raise SchemaError(f"{path} is not a regular file, not a SQLite database")
            header = os.read(fd, len(SQLITE_HEADER))
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise SchemaError(f"database file not found: {path}") from None
    except IsADirectoryError:
        raise SchemaError(f"{path} is a directory, not a SQLite database file") from None
    except PermissionError:
        raise SchemaError(f"permission denied: cannot read database file {path}") from None
    except OSError as exc:
        raise SchemaError(f"cannot read database file {path}: {exc.strerror or exc}") from None
    # An empty file is a valid database with no tables: SQLite writes the header on first write.
    if header and header != SQLITE_HEADER:
        raise SchemaError(f"{path} is not a SQLite database")


def _schema_error(exc: sqlite3.Error, path: str) -> SchemaError:
    text = str(exc)
    lowered = text.lower()
    if is_busy(exc):
        return SchemaError(f"database is locked by another connection: {path}")
    if "not a database" in lowered:
        return SchemaError(f"{path} is not a SQLite database")
    if "malformed" in lowered or "corrupt" in lowered:
        return SchemaError(f"database file is corrupt: {path} ({text})")
    if "unable to open" in lowered:
        try:
            _check_file(path)
        except SchemaError as better:
            return better
        return SchemaError(f"cannot open database file: {path}")
    if "readonly" in lowered or "read-only" in lowered:
        # A hot journal left by a crashed writer needs a writable connection to roll back.
        return SchemaError(f"cannot read database {path} read-only: {text}")
    return SchemaError(f"cannot read database {path}: {text}")


class LiveDatabase:
    """The project's SQLite database, opened read-only, with its schema cached.

    `schema()` re-reads the schema only when the file's identity (device, inode), its
    `PRAGMA schema_version` or the content of its `sqlite_master` changes (a database rebuilt
    differently in the same file can have the same version), so calling it before every check
    is cheap. Safe to share between threads.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        self.path = os.fspath(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._key: tuple[int, int, int, str] | None = None
        self._schema: Schema | None = None

    def schema(self) -> Schema:
        """Return the current schema (source "database"), or raise SchemaError."""
        with self._lock:
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                self._close()
                raise SchemaError(f"database file not found: {self.path}") from None
            except PermissionError:
                self._close()
                raise SchemaError(
                    f"permission denied: cannot read database file {self.path}"
                ) from None
            except OSError as exc:
                self._close()
                raise SchemaError(f"cannot read database file {self.path}: {exc}") from None
            identity = (stat.st_dev, stat.st_ino)
            if self._conn is None or identity != self._identity:
                # The file was replaced: the old connection still reads the old inode.
                self._close()
                self._conn = open_read_only(self.path, busy_timeout=self.busy_timeout)
                self._identity = identity
            conn = self._conn
            try:
                # One read transaction, so the version, the digest and the objects agree.
                conn.execute("BEGIN")
                try:
                    version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
                    key = (*identity, version, master_digest(conn))
                    if self._schema is not None and key == self._key:
                        return self._schema
                    schema = schema_from_connection(conn, "database")
                finally:
                    conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                self._close()
                raise _schema_error(exc, self.path) from exc
            self._key = key
            self._schema = schema
            return schema

    def connect(self) -> sqlite3.Connection:
        """Return a new read-only connection to the database (the caller closes it)."""
        return open_read_only(self.path, busy_timeout=self.busy_timeout)

    def close(self) -> None:
        """Close the cached connection; `schema()` reopens it when called again."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._identity = None
        self._key = None
        self._schema = None

    def __enter__(self) -> LiveDatabase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
