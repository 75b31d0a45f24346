"""A small project the fix-command tests share: two migrations, the second not applied."""

from __future__ import annotations

import sqlite3
from pathlib import Path

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
