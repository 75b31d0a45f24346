"""SQLite, the first database back end: the driver (`sqlite3`) is imported here and below only."""

from __future__ import annotations

import sqlite3

__all__ = ["DRIVER_ERRORS", "complete_statement"]

#: What the driver raises for a database problem (the seam's `DatabaseError` catches these).
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)


def complete_statement(text: str) -> bool:
    """Return whether `text` ends a whole statement: its last `;` is outside strings, comments
    and a CREATE TRIGGER body (SQLite's own `sqlite3_complete`)."""
    return sqlite3.complete_statement(text)
