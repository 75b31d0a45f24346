"""The database back ends: each gives the schema, a verdict on a statement, and schema fixes.

Code above the seam catches `DatabaseError` (every back end's driver errors) and reads
`databases/database.py`; only a back end (`databases/sqlite/`) imports its driver.
"""

from __future__ import annotations

from dbheal_lsp.databases.database import SchemaError
from dbheal_lsp.databases.sqlite import DRIVER_ERRORS

__all__ = ["DatabaseError", "SchemaError"]

#: Every back end's driver errors, for `except DatabaseError:` above the seam.
DatabaseError: tuple[type[Exception], ...] = DRIVER_ERRORS
