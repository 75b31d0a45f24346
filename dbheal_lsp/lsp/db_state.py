"""The live database's state as the file watcher compares it: identity and schema version.

A write to the database's files means some connection wrote; comparing this state before and
after tells a schema change (reported) from an ordinary data write (not reported), and a file
that went or was replaced from one that stayed. The version is read through a read-only
connection that waits only briefly for a writer: a database that stays locked reads as `LOCKED`,
and the watcher tries again later rather than guess.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbheal_lsp.databases import DatabaseError, open_database_file
from dbheal_lsp.databases.database import SchemaError

DB_BUSY_TIMEOUT = 0.5  # seconds to wait for a writer's lock when reading schema_version

#: The state of the database file: ("ok", st_dev, st_ino, schema_version), ("missing",),
#: ("error", why) or LOCKED. Two states are equal when nothing the checks read has changed.
DbState = tuple[object, ...]
#: "A writer holds the lock: try again later."
LOCKED: DbState = ("locked",)
_UNREADABLE: tuple[type[Exception], ...] = (SchemaError, *DatabaseError)


def read_db_state(database: Path) -> DbState:
    """Return the identity and schema version of `database`, or why they cannot be read."""
    try:
        stat = os.stat(database)
    except FileNotFoundError:
        return ("missing",)
    except OSError as exc:
        return ("error", str(exc))
    try:
        version = open_database_file(database).schema_counter(busy_timeout=DB_BUSY_TIMEOUT)
    except _UNREADABLE as exc:
        text = str(exc)
        if "locked" in text.lower() or "busy" in text.lower():
            return LOCKED
        return ("error", text)
    return ("ok", stat.st_dev, stat.st_ino, version)
