"""Where the fix engine finds a PostgreSQL server: a small file standing for it in the project.

The fix engine, its history and its backups name a database by a path (a SQLite file). A server
is named by `<root>/.dbheal/postgres/<host and database>.pgserver`, a file holding the server's
URL without its password: the history records that path, the lock is taken on it, and a
rollback finds the server again from it. The URL connected to is always the project's own (its
`database` setting, $DATABASE_URL or the running command's `--database`, password included),
and only when the file names that same server: `.dbheal/` may come with a stranger's repository, and a file there naming another host
must not get libpq to send it the user's password (~/.pgpass, $PGPASSWORD). No password is ever
written, and the file is read and written only as a regular file of the project's `.dbheal/`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from dbheal_lsp.database_url import GIVEN_URL, redacted
from dbheal_lsp.files import FileRefused, atomic_write, ensure_dir, read_regular_file

__all__ = ["SUFFIX", "is_server_file", "server_file", "server_url"]

SUFFIX = ".pgserver"

_FOLDER = Path(".dbheal") / "postgres"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_MAX_BYTES = 64 * 1024  # a URL: anything larger is not one of ours


def server_file(root: Path, url: str) -> Path:
    """Return (and write, when missing or stale) the file standing for the server of `url` in
    the project at `root`."""
    shown = redacted(url)
    path = Path(root) / _FOLDER / f"{_name(url)}{SUFFIX}"
    if _stored(path) != shown:
        ensure_dir(path.parent)
        atomic_write(path, (shown + "\n").encode("utf-8"), mode=0o644)  # never through a link
    return path


def is_server_file(path: Path) -> bool:
    """Return whether `path` stands for a PostgreSQL server (`server_file`)."""
    return Path(path).suffix == SUFFIX and Path(path).parent.name == _FOLDER.name


def server_url(path: Path) -> str:
    """Return the URL to connect to the server `path` stands for (see the module docstring);
    raise ValueError when the file cannot be read."""
    path = Path(path)
    stored = _stored(path)
    if stored is None:
        raise ValueError(f"cannot read {path}: not a regular file of the project")
    root = path.parent.parent.parent
    given = os.environ.get(GIVEN_URL)  # `--database URL` of the running command
    if given and redacted(given) == stored:
        return given
    from dbheal_lsp.config import ConfigError, load_config

    try:
        configured = load_config(root).database_url
    except ConfigError:  # a broken pyproject.toml names no server
        configured = None
    if configured is not None and redacted(configured) == stored:
        return configured
    raise ValueError(
        f"{stored} is not this project's database ({redacted(configured) if configured else 'none is set'}): "
        "dbheal connects only to the server the project names (its database setting or "
        "DATABASE_URL); name that server there to work on it"
    )


def _stored(path: Path) -> str | None:
    """The URL the file at `path` holds, or None when it is missing, not a regular file of
    the project, or unreadable (a link out of it, a FIFO)."""
    root = path.parent.parent.parent
    try:
        data = read_regular_file(path, max_bytes=_MAX_BYTES, root=root)
    except (OSError, FileRefused):
        return None
    return data.decode("utf-8", "replace").strip()


def _name(url: str) -> str:
    """A file name for the server: its host (or socket folder), port and database."""
    try:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        host = parts.hostname or query.get("host", "local")
        port = str(parts.port or query.get("port", ""))
    except ValueError:
        return "server"
    database = parts.path.strip("/") or "postgres"
    name = "_".join(p for p in (host.strip("/"), port, database) if p)
    return _UNSAFE.sub("_", name).strip("_")[:100] or "server"
