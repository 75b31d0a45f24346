"""The shop database the executor's tests change: users, sessions (user_id TEXT by mistake)
with an index, a trigger, a view and a referencing table; `make_shop` makes it, `snapshot` and
`file_digest` tell whether anything changed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from dbheal_lsp.databases.sqlite.rebuild import change_type_plan
from dbheal_lsp.model import MigrationPlan

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id),  -- text by mistake
    token TEXT NOT NULL UNIQUE,
    seen REAL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);
CREATE TRIGGER sessions_audit AFTER DELETE ON sessions
BEGIN INSERT INTO audit (what) VALUES ('deleted ' || old.id); END;
CREATE VIEW user_sessions AS
    SELECT u.name, s.token FROM sessions AS s JOIN users AS u ON u.id = s.user_id;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind TEXT
);
"""

ROWS = 195  # sessions 1..195; users i % 20


def make_shop(path: Path) -> Path:
    """Make the shop database at `path`: 20 users, sessions 1..195, events of 1..149."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO users (id, name) VALUES (?, ?)", [(i, f"u{i}") for i in range(20)]
    )
    conn.executemany(
        "INSERT INTO sessions (user_id, token, seen) VALUES (?, ?, ?)",
        [(str(i % 20), f"t{i}", i / 4) for i in range(200)],
    )
    conn.executemany(
        "INSERT INTO events (session_id, kind) VALUES (?, ?)", [(i, "login") for i in range(1, 150)]
    )
    # The AUTOINCREMENT counter (200) is now above the largest id (195): it must survive.
    conn.execute("DELETE FROM events WHERE session_id > 195")
    conn.execute("DELETE FROM sessions WHERE id > 195")
    conn.execute("DELETE FROM audit")
    conn.execute("COMMIT")
    conn.close()
    return path


def snapshot(path: Path) -> tuple[list[tuple[object, ...]], str]:
    """Return the schema rows and a checksum of every row of every table (values and types)."""
    conn = sqlite3.connect(path)
    try:
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
        ).fetchall()
        digest = hashlib.sha256()
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall():
            columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
            values = ", ".join(f'quote("{c}")' for c in columns)
            cursor = conn.execute(f'SELECT rowid, {values} FROM "{name}" ORDER BY rowid')
            digest.update(name.encode())
            while batch := cursor.fetchmany(50_000):
                digest.update(repr(batch).encode())
        return master, digest.hexdigest()
    finally:
        conn.close()


def file_digest(path: Path) -> str:
    """Return the SHA-256 of the file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plan_for(
    path: Path, table: str = "sessions", column: str = "user_id", **kw: object
) -> MigrationPlan:
    """Return the plan changing `table.column` of the database at `path` to INTEGER."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return change_type_plan(conn, table, column, "INTEGER", **kw)  # type: ignore[arg-type]
    finally:
        conn.close()


def lossy_shop(tmp_path: Path) -> Path:
    """Return the shop with a table orders whose TEXT qty holds 5 values an INTEGER loses."""
    db = make_shop(tmp_path / "lossy.db")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, qty TEXT, note TEXT)")
    conn.executemany(
        "INSERT INTO orders (qty, note) VALUES (?, ?)",
        [
            (q, f"n{i}")
            for i, q in enumerate(["1", "abc", "3", "12.5", "", " 7", "007", "42", None])
        ],
    )
    conn.close()
    return db
