"""SQLite, the first database back end: the driver (`sqlite3`) is imported here and below only."""

from __future__ import annotations

import sqlite3

__all__ = ["DRIVER_ERRORS"]

#: What the driver raises for a database problem (the seam's `DatabaseError` catches these).
DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)
