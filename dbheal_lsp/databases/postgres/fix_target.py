"""Where the fix engine finds a PostgreSQL server: a small file standing for it in the project.

The fix engine, its history and its backups name a database by a path (a SQLite file). A server
is named by `<root>/.dbheal/postgres/<host and database>.pgserver`, a file holding the server's
URL without its password: the history records that path, the lock is taken on it, and a
rollback finds the server again from it. The URL connected to is the project's own (its
`database` setting or $DATABASE_URL, password included) when it names the same server, else the
stored one, whose password libpq finds in ~/.pgpass or $PGPASSWORD. No password is ever written.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from dbheal_lsp.database_url import redacted
from dbheal_lsp.files import ensure_dir

__all__ = ["SUFFIX", "is_server_file", "server_file", "server_url"]

SUFFIX = ".pgserver"
_FOLDER = Path(".dbheal") / "postgres"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def server_file(root: Path, url: str) -> Path:
    """Return (and write, when missing or stale) the file standing for the server of `url` in
    the project at `root`."""
    shown = redacted(url)
    path = Path(root) / _FOLDER / f"{_name(url)}{SUFFIX}"
    if not path.is_file() or path.read_text(encoding="utf-8").strip() != shown:
        ensure_dir(path.parent)
        path.write_text(shown + "\n", encoding="utf-8")
    return path


def is_server_file(path: Path) -> bool:
    """Return whether `path` stands for a PostgreSQL server (`server_file`)."""
    return Path(path).suffix == SUFFIX and Path(path).parent.name == _FOLDER.name


def server_url(path: Path) -> str:
    """Return the URL to connect to the server `path` stands for (see the module docstring);
    raise ValueError when the file cannot be read."""
    path = Path(path)
    try:
        stored = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    root = path.parent.parent.parent
    try:
        from dbheal_lsp.config import load_config

        configured = load_config(root).database_url
    except Exception:  # a broken pyproject.toml: the stored URL still connects
        configured = None
    if configured is not None and redacted(configured) == stored:
        return configured
    return stored


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
