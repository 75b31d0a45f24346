"""The tables of `.dbheal/state.sqlite`, their migrations, and how a row maps to a record.

The file's schema is versioned with `PRAGMA user_version`: `MIGRATIONS[n]` brings a file from
version n to n + 1, so a later version adds a function to the tuple (say, to add a column) and
every existing file is brought up to date when it is opened (`prepare`). The store that reads
and writes the rows is `fixes/state.py`.

dbheal's own history store is a SQLite file whatever the user's database is, so this
module imports `sqlite3` itself, not through the database seam.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

from dbheal_lsp.codec import from_json, to_json
from dbheal_lsp.model import Severity, VerifyReport
from dbheal_lsp.records import FixRecord, QueueEntry, ScanRecord

__all__ = [
    "EVENT_COLUMNS",
    "FIX_COLUMNS",
    "FIX_UPDATE",
    "MIGRATIONS",
    "QUEUE_COLUMNS",
    "SCAN_COLUMNS",
    "SCHEMA_VERSION",
    "entry_from_row",
    "fix_from_row",
    "fix_params",
    "migrate",
    "prepare",
    "scan_from_row",
]


def _create_fixes(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS fixes (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            issue_fingerprint TEXT NOT NULL DEFAULT '',
            plan_id TEXT NOT NULL DEFAULT '',
            plan_text TEXT NOT NULL DEFAULT '',
            plan_json TEXT NOT NULL DEFAULT '',
            database TEXT,
            files TEXT NOT NULL DEFAULT '[]',
            backup_dir TEXT,
            verify TEXT NOT NULL DEFAULT '{}',
            outcome TEXT NOT NULL,
            message TEXT NOT NULL DEFAULT '',
            rolled_back_at TEXT,
            rollback_of TEXT
        )
        """
    )
    conn.execute("CREATE INDEX IF NOT EXISTS fixes_by_time ON fixes (created_at, id)")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS fixes_by_fingerprint ON fixes (issue_fingerprint, created_at)"
    )
    # Fix ids handed out by new_fix_id, so that no two callers get the same one before either
    # has recorded its fix.
    conn.execute("CREATE TABLE IF NOT EXISTS fix_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")


def _create_queue(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS queue (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            plan_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            priority INTEGER NOT NULL,
            severity TEXT NOT NULL,
            issue_fingerprint TEXT NOT NULL DEFAULT '',
            payload_json TEXT NOT NULL,
            database TEXT,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued'
        )
        """
    )
    # At most one queued entry per plan, enforced by the file itself, so that two processes
    # enqueueing the same plan at once still leave one.
    conn.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS queue_one_queued_plan ON queue (plan_id) "
        "WHERE status = 'queued'"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS queue_by_status ON queue (status, priority)")


def _create_events(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            error TEXT NOT NULL,
            statement TEXT NOT NULL,
            path TEXT,
            line INTEGER,
            action TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            "table" TEXT
        )
        """
    )


def _create_scans(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS scans (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            trigger TEXT NOT NULL,
            files INTEGER NOT NULL,
            statements INTEGER NOT NULL,
            counts_by_severity TEXT NOT NULL DEFAULT '{}',
            counts_by_type TEXT NOT NULL DEFAULT '{}',
            duration_ms REAL NOT NULL
        )
        """
    )


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    """The first version: fix history, fix ids, queue, runtime events and scans."""
    for create in (_create_fixes, _create_queue, _create_events, _create_scans):
        create(conn)


# MIGRATIONS[n] brings a state file from user_version n to n + 1. Append, never edit: files in
# the field are at every version that was ever released.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migrate_0_to_1,)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Callable[[sqlite3.Connection], None]] = MIGRATIONS,
) -> int:
    """Bring the database of `conn` (in autocommit mode) up to `len(migrations)` and return the
    version it was at. All steps run in one write transaction, so two processes opening a new
    file at once migrate it once. A file of a newer version is left alone: versions only add."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for step in migrations[version:]:
            step(conn)
        if version < len(migrations):
            conn.execute(f"PRAGMA user_version = {len(migrations)}")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return version


def prepare(conn: sqlite3.Connection, timeout: float) -> None:
    """Make a new connection to the state file ready: its busy timeout, WAL mode, and the
    file migrated to `SCHEMA_VERSION`. Raise sqlite3.DatabaseError when the file is unusable."""
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    # Switching a new file to WAL needs a moment of exclusive access; another process
    # creating the same file at that instant can make it fail without waiting, so retry.
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    migrate(conn)


# --- rows ---------------------------------------------------------------------------------------
# The columns of each table in the order the records (dbheal_lsp/records.py) hold them, and the
# mapping between a row and its record.

FIX_COLUMNS = (
    "id, created_at, kind, title, issue_fingerprint, plan_id, plan_text, plan_json, database, "
    "files, backup_dir, verify, outcome, message, rolled_back_at, rollback_of"
)
#: Sets every column of a fix but its id from `fix_params(record)[1:]`, then takes the id.
FIX_UPDATE = (
    "UPDATE fixes SET "
    + ", ".join(f"{column} = ?" for column in FIX_COLUMNS.split(", ")[1:])
    + " WHERE id = ?"
)
QUEUE_COLUMNS = (
    "id, plan_id, kind, title, priority, severity, issue_fingerprint, payload_json, database, "
    "created_at, status"
)
EVENT_COLUMNS = 'id, time, error, statement, path, line, action, outcome, "table"'
SCAN_COLUMNS = (
    "id, time, trigger, files, statements, counts_by_severity, counts_by_type, duration_ms"
)


def fix_params(record: FixRecord) -> tuple[object, ...]:
    """Return the values of `record` for the columns `FIX_COLUMNS`."""
    return (
        record.id,
        record.created_at,
        record.kind,
        record.title,
        record.issue_fingerprint,
        record.plan_id,
        record.plan_text,
        record.plan_json,
        record.database,
        json.dumps(list(record.files)),
        record.backup_dir,
        to_json(record.verify),
        record.outcome,
        record.message,
        record.rolled_back_at,
        record.rollback_of,
    )


def fix_from_row(row: Sequence[Any]) -> FixRecord:
    """Return the fix record of a row of `FIX_COLUMNS`."""
    files = json.loads(row[9]) if row[9] else []
    return FixRecord(
        id=str(row[0]),
        created_at=str(row[1]),
        kind=str(row[2]),
        title=str(row[3]),
        issue_fingerprint=str(row[4]),
        plan_id=str(row[5]),
        plan_text=str(row[6]),
        plan_json=str(row[7]),
        database=None if row[8] is None else str(row[8]),
        files=tuple(str(f) for f in files),
        backup_dir=None if row[10] is None else str(row[10]),
        verify=from_json(VerifyReport, row[11]) if row[11] and row[11] != "{}" else VerifyReport(),
        outcome=str(row[12]),
        message=str(row[13]),
        rolled_back_at=None if row[14] is None else str(row[14]),
        rollback_of=None if row[15] is None else str(row[15]),
    )


def entry_from_row(row: Sequence[Any]) -> QueueEntry:
    """Return the queue entry of a row of `QUEUE_COLUMNS`."""
    return QueueEntry(
        id=int(row[0]),
        plan_id=str(row[1]),
        kind=str(row[2]),
        title=str(row[3]),
        priority=int(row[4]),
        severity=Severity(row[5]),
        issue_fingerprint=str(row[6]),
        payload_json=str(row[7]),
        database=None if row[8] is None else str(row[8]),
        created_at=str(row[9]),
        status=str(row[10]),
    )


def _int_dict(text: str | None) -> dict[str, int]:
    data = json.loads(text) if text else {}
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items()}


def scan_from_row(row: Sequence[Any]) -> ScanRecord:
    """Return the scan of a row of `SCAN_COLUMNS`."""
    return ScanRecord(
        int(row[0]),
        str(row[1]),
        str(row[2]),
        int(row[3]),
        int(row[4]),
        _int_dict(row[5]),
        _int_dict(row[6]),
        float(row[7]),
    )
