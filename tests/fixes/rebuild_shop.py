"""A small shop database with views, triggers and indexes around the table the rebuild tests
change: `shop_connection` makes it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
CREATE VIEW busy_users AS SELECT name, count(*) AS n FROM user_sessions GROUP BY name;
CREATE TABLE events (id INTEGER PRIMARY KEY, session_id INTEGER REFERENCES sessions(id), kind TEXT);
CREATE TRIGGER events_touch AFTER INSERT ON events
BEGIN UPDATE sessions SET seen = 1 WHERE id = new.session_id; END;
CREATE INDEX events_kind ON events(kind);
"""


def shop_connection(path: Path | str = ":memory:") -> sqlite3.Connection:
    """Return a connection (autocommit) to the shop database at `path`, 5 users, 20 sessions."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO users (id, name) VALUES (?, ?)", [(i, f"u{i}") for i in range(5)])
    conn.executemany(
        "INSERT INTO sessions (user_id, token) VALUES (?, ?)",
        [(str(i % 5), f"t{i}") for i in range(20)],
    )
    return conn
