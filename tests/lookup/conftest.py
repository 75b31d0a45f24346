"""The shop every lookup test reads (`dbheal_lsp.lookup`), and the helpers that place a cursor.

Every test runs against a real SQLite file and a real migrations folder under `tmp_path`: the
database has had migrations 001 to 003 applied (with one column's type changed by hand, so it
drifts), and 004 is not applied yet. Cursors are placed by searching the Python text for a
marker, so that each test reads like what a user points at.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import load_config
from dbheal_lsp.lookup import Completion, SqlToken, completions, hover_markdown, token_at

MIGRATIONS = {
    "001_users.sql": """-- the shop's customers
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'active',
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_users_name ON users(name);
""",
    "002_orders.sql": """CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL DEFAULT 'new',
    total_cents INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_orders_user_status ON orders(user_id, status);
""",
    "003_users_age.sql": "ALTER TABLE users ADD COLUMN age INTEGER;\n",
    "004_audit.sql": """-- not applied yet: the audit log
-- lands with the next release

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    message TEXT NOT NULL
);
""",
}


USERS_COLUMNS = ["id", "name", "email", "status", "created_at", "age"]


ORDERS_COLUMNS = ["id", "user_id", "status", "total_cents"]


def build(root: Path, *, migrations: bool = True) -> Project:
    """Write the migrations, build the database from 001-003 (total_cents made REAL by hand).

    Without `migrations` no folder is written (a `migrations` folder would be discovered).
    """
    if migrations:
        folder = root / "migrations"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in MIGRATIONS.items():
            (folder / name).write_text(text, encoding="utf-8")
    applied = "".join(
        MIGRATIONS[n] for n in ("001_users.sql", "002_orders.sql", "003_users_age.sql")
    )
    conn = sqlite3.connect(root / "app.db")
    try:
        conn.executescript(applied.replace("total_cents INTEGER", "total_cents REAL"))
    finally:
        conn.close()
    settings: dict[str, str] = {"database": "app.db"}
    if migrations:
        settings["migrations"] = "migrations"
    return Project(load_config(root, settings))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return build(tmp_path)


def cursor(source: str, marker: str, delta: int = 0, nth: int = 0) -> tuple[int, int]:
    """Return the (line, column) of the `nth` occurrence of `marker`, moved by `delta`."""
    at = -1
    for _ in range(nth + 1):
        at = source.index(marker, at + 1)
    at += delta
    line = source.count("\n", 0, at) + 1
    column = at - (source.rfind("\n", 0, at) + 1) + 1
    return line, column


def end_of(source: str) -> tuple[int, int]:
    """Return the (line, column) just past the last character of `source`."""
    return cursor(source + "\x00", "\x00")


def token(project: Project, source: str, marker: str, delta: int = 0, nth: int = 0) -> SqlToken:
    found = token_at(project, "app/x.py", source, *cursor(source, marker, delta, nth))
    assert found is not None, f"no token at {marker!r}"
    return found


def hover(project: Project, source: str, marker: str, delta: int = 0, nth: int = 0) -> str:
    text = hover_markdown(project, token(project, source, marker, delta, nth))
    assert text is not None
    return text


def complete(project: Project, source: str, position: tuple[int, int]) -> tuple[Completion, ...]:
    return completions(project, "app/x.py", source, *position)


def labels(items: tuple[Completion, ...], kind: str) -> list[str]:
    return [c.label for c in items if c.kind == kind]


def module(body: str) -> str:
    return "import sqlite3\n\n\ndef run(db: sqlite3.Connection, uid: int) -> None:\n" + body
