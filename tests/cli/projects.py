"""Small projects the CLI tests write: one to check (an app.db from SCHEMA and a few modules),
and one for the fix commands (two migrations, the second not applied)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE);
CREATE INDEX idx_users_name ON users(name);
"""

HEADER = 'import sqlite3\n\nconn = sqlite3.connect("app.db")\n'
CRITICAL = HEADER + 'conn.execute("SELECT nmae FROM users WHERE id = ?", (1,))\n'
LOW = HEADER + 'conn.execute("SELECT * FROM users WHERE id = ?", (1,))\n'
CLEAN = HEADER + 'conn.execute("SELECT id, name FROM users WHERE email = ?", ("a@b.c",))\n'
SYNTAX_ERROR = HEADER + "def broken(:\n    conn.execute('SELECT 1')\n"


def make_project(root: Path, files: dict[str, str], settings: str = "") -> Path:
    """Write a project at `root`: pyproject.toml, app.db from SCHEMA and `files`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.dbheal]\ndatabase = "app.db"\n' + settings,
        encoding="utf-8",
    )
    conn = sqlite3.connect(root / "app.db")
    conn.executescript(SCHEMA)
    conn.close()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


JOINED_MIGRATION = """\
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER);
CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    sku TEXT
);
CREATE INDEX idx_order_items_order_id ON order_items (order_id);
"""
JOINING_CODE = """\
def items(db, user_id):
    return db.execute(
        "SELECT o.id, i.sku FROM orders o JOIN order_items i ON i.order_id = o.id "
        "WHERE o.user_id = ?",
        (user_id,),
    ).fetchall()
"""


def joined_project(root: Path) -> Path:
    """A project whose 002 migration (not applied) creates two tables that the code joins."""
    (root / "migrations").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "pyproject.toml").write_text('[tool.dbheal]\ndatabase = "app.db"\n')
    (root / "migrations" / "001_users.sql").write_text(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
    )
    (root / "migrations" / "002_orders.sql").write_text(JOINED_MIGRATION)
    (root / "app" / "orders.py").write_text(JOINING_CODE)
    with sqlite3.connect(root / "app.db") as conn:
        conn.executescript((root / "migrations" / "001_users.sql").read_text())
    conn.close()
    return root
