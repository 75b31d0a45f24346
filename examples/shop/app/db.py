"""Database access for the shop: one connection per process, and a few small helpers."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_PATH = Path(os.environ.get("SHOP_DB", Path(__file__).resolve().parent.parent / "shop.db"))

_connection: sqlite3.Connection | None = None


def get_db() -> sqlite3.Connection:
    """Return the process-wide connection, opening it on first use."""
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(DB_PATH)
        _connection.row_factory = sqlite3.Row
        _connection.execute("PRAGMA foreign_keys = ON")
    return _connection


def close_db() -> None:
    """Close the process-wide connection (tests and shutdown)."""
    global _connection
    if _connection is not None:
        _connection.close()
        _connection = None


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    """Run a block in one transaction: commit if it returns, roll back if it raises."""
    db = get_db()
    with db:
        yield db


def quote_ident(name: str) -> str:
    """Return `name` as a quoted SQLite identifier, safe to put in a statement's text."""
    return '"' + name.replace('"', '""') + '"'
