"""PostgreSQL, the second database back end: the driver (psycopg 3) is imported here and below
only, and lazily (`connect.py`): importing it costs a third of a second SQLite projects never pay.
"""

from __future__ import annotations

__all__ = ["DRIVER_ERRORS", "PostgresError"]


class PostgresError(Exception):
    """A PostgreSQL server's error, its password removed (what this back end raises for the
    driver's errors, so code above the seam catches it without importing psycopg)."""


#: What this back end raises for a database problem (the seam's `DatabaseError` catches these).
DRIVER_ERRORS: tuple[type[Exception], ...] = (PostgresError,)
