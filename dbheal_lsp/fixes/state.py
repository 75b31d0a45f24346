"""The safety layer's storage: fix history, the fix queue, runtime events and scans.

Everything lives in one SQLite file, `<project root>/.dbheal/state.sqlite`, so that the language
server, the CLI, the git hook, the runtime wrapper and the admin page (several processes, several
threads each) share one history and one queue, and both survive a restart. The rows are the
values of `dbheal_lsp/records.py`; the file's tables and their migrations are in
`fixes/state_schema.py`; the runtime events and scans are `fixes/state_logs.py`'s; the plans inside records are JSON written by `dbheal_lsp/codec.py`.

Concurrency: the file is in WAL mode (readers never block the writer), every connection waits up
to a busy timeout (5 s) for a lock, and every write starts with `BEGIN IMMEDIATE`, which takes the
write lock up front. A deferred transaction that reads first and writes later cannot wait for the
lock in WAL mode (SQLite returns "database is locked" at once to avoid a deadlock), so writes never
start deferred. One `StateStore` holds one connection, guarded by a lock, for all its threads.

dbheal's own history store is a SQLite file whatever the user's database is, so this
module imports `sqlite3` itself, not through the database seam.
"""

from __future__ import annotations

import enum
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from dbheal_lsp.fixes.state_logs import EventLog, normal_time
from dbheal_lsp.fixes.state_schema import (
    FIX_COLUMNS,
    FIX_UPDATE,
    QUEUE_COLUMNS,
    entry_from_row,
    fix_from_row,
    fix_params,
    prepare,
)
from dbheal_lsp.model import Severity, VerifyReport
from dbheal_lsp.records import (
    QUEUE_STATUSES,
    FixRecord,
    QueueEntry,
    format_time,
    utc_now,
)

__all__ = [
    "STATE_DIR",
    "STATE_FILE",
    "StateError",
    "StateStore",
    "state_path",
]

STATE_DIR = ".dbheal"
STATE_FILE = "state.sqlite"


DEFAULT_TIMEOUT = 5.0


class StateError(Exception):
    """The state file cannot be opened or a change to it is not allowed."""


def state_path(root: Path) -> Path:
    """Return the path of the state file of the project at `root`."""
    return Path(root) / STATE_DIR / STATE_FILE


# --- the store ----------------------------------------------------------------------------------


class _Unset(enum.Enum):
    UNSET = 0


_UNSET = _Unset.UNSET

_SEVERITY_ORDER = (
    "CASE severity WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END"
)


class StateStore(EventLog):
    """The state of one project: `<root>/.dbheal/state.sqlite`, opened (and created) here.

    Safe to share between threads (one connection behind a lock) and to open in several
    processes at once (WAL, a busy timeout, writes that take the lock first). A store used in a
    child process after a fork opens a connection of its own. Close it, or use it as a context
    manager, when done.
    """

    def __init__(
        self,
        root: Path,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_events: int = 10_000,
        max_scans: int = 2_000,
    ) -> None:
        """Open (creating if needed) the state file of the project at `root`, or raise
        StateError. `max_events` and `max_scans` bound those two tables: the oldest rows go."""
        self.root = Path(root)
        self.path = state_path(self.root)
        self.timeout = timeout
        self.max_events = max_events
        self.max_scans = max_scans
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        with self._lock:
            self._connection()

    # -- connection

    def _connection(self) -> sqlite3.Connection:
        # A connection must not be used on both sides of a fork: a child opens its own, and
        # leaves the inherited one alone (closing it could release the parent's locks).
        if self._conn is None or self._pid != os.getpid():
            self._conn = _open_state_file(self.root, self.path, self.timeout)
            self._pid = os.getpid()
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StateError(
                    f"the dbheal state file {self.path} stayed busy for {self.timeout:g} s "
                    f"({exc}); try again"
                ) from exc
            try:
                yield conn
            except BaseException:
                # SQLite may have rolled back already (a full disk, an I/O error).
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection().execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """Return the `PRAGMA user_version` of the state file."""
        return int(self._read("PRAGMA user_version")[0][0])

    # -- history

    def new_fix_id(self) -> str:
        """Return a new fix id, `YYYYMMDDTHHMMSS-xxxx` (UTC time, random hex): it sorts by
        time and is unique across threads and processes, because it is reserved in the state
        file before it is returned (and is unused in the history and the backups folder)."""
        backups = self.root / STATE_DIR / "backups"
        with self._write() as conn:
            while True:
                stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
                candidate = f"{stamp}-{secrets.token_hex(2)}"
                taken = conn.execute(
                    "SELECT 1 FROM fix_ids WHERE id = ?1 "
                    "UNION ALL SELECT 1 FROM fixes WHERE id = ?1",
                    (candidate,),
                ).fetchone()
                if taken is None and not (backups / candidate).exists():
                    conn.execute("INSERT INTO fix_ids (id) VALUES (?)", (candidate,))
                    return candidate

    def record_fix(self, record: FixRecord) -> FixRecord:
        """Store a new fix record and return it as stored (times normalised to ISO UTC).
        Raise StateError if a record of that id exists."""
        record = _normal_record(record)
        with self._write() as conn:
            _insert_fix(conn, record)
        return record

    def update_fix(
        self,
        fix_id: str,
        *,
        outcome: str | None = None,
        message: str | None = None,
        verify: VerifyReport | None = None,
        plan_text: str | None = None,
        plan_json: str | None = None,
        files: Sequence[str] | None = None,
        database: str | Literal[_Unset.UNSET] | None = _UNSET,
        backup_dir: str | Literal[_Unset.UNSET] | None = _UNSET,
        rolled_back_at: str | Literal[_Unset.UNSET] | None = _UNSET,
    ) -> FixRecord:
        """Change the given fields of a recorded fix (None leaves a field as it is, except for
        the optional fields, which accept None) and return the record. Raise KeyError if there
        is no such fix."""
        with self._write() as conn:
            record = _stored_fix(conn, fix_id)
            given = {
                "outcome": outcome,
                "message": message,
                "verify": verify,
                "plan_text": plan_text,
                "plan_json": plan_json,
                "files": None if files is None else tuple(files),
            }
            changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
            optional = {
                "database": database,
                "backup_dir": backup_dir,
                "rolled_back_at": rolled_back_at,
            }
            changes.update((k, v) for k, v in optional.items() if v is not _UNSET)
            record = _normal_record(replace(record, **changes))
            conn.execute(FIX_UPDATE, (*fix_params(record)[1:], record.id))
        return record

    def handed_out_fix_ids(self) -> set[str]:
        """Return every fix id `new_fix_id` handed out, recorded in the history or not."""
        return {str(row[0]) for row in self._read("SELECT id FROM fix_ids")}

    def record_rollback(self, fix_id: str, rollback: FixRecord) -> FixRecord:
        """In one transaction, mark fix `fix_id` rolled back (at `rollback.created_at`) and store
        the `rollback` record; return the updated fix. Raise StateError if the fix is not
        applied any more (another process rolled it back meanwhile) and KeyError if unknown."""
        rollback = _normal_record(replace(rollback, rollback_of=fix_id))
        with self._write() as conn:
            original = _stored_fix(conn, fix_id)
            if original.outcome != "applied":
                raise StateError(f"fix {fix_id} is {original.outcome}, not applied")
            original = replace(original, outcome="rolled_back", rolled_back_at=rollback.created_at)
            conn.execute(
                "UPDATE fixes SET outcome = ?, rolled_back_at = ? WHERE id = ?",
                (original.outcome, original.rolled_back_at, fix_id),
            )
            _insert_fix(conn, rollback)
        return original

    def fix(self, fix_id: str) -> FixRecord | None:
        """Return the fix record of that id, or None."""
        rows = self._read(f"SELECT {FIX_COLUMNS} FROM fixes WHERE id = ?", (fix_id,))
        return fix_from_row(rows[0]) if rows else None

    def fixes(self, limit: int | None = None) -> list[FixRecord]:
        """Return the fix records, newest first (at most `limit` of them)."""
        sql = f"SELECT {FIX_COLUMNS} FROM fixes ORDER BY created_at DESC, id DESC"
        params: tuple[object, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (max(limit, 0),)
        return [fix_from_row(row) for row in self._read(sql, params)]

    def fixes_after(self, fix_id: str) -> list[FixRecord]:
        """Return the fixes recorded after fix `fix_id`, oldest first ([] if it is unknown)."""
        rows = self._read(
            f"SELECT {FIX_COLUMNS} FROM fixes WHERE (created_at, id) > "
            "(SELECT created_at, id FROM fixes WHERE id = ?) ORDER BY created_at, id",
            (fix_id,),
        )
        return [fix_from_row(row) for row in rows]

    def times_fixed(
        self, issue_fingerprint: str, within_seconds: float, *, now: datetime | None = None
    ) -> int:
        """Return how many fixes of that issue were applied in the last `within_seconds`.

        Fixes that were applied and later rolled back count too: a fix that keeps being undone
        and redone is exactly the loop this number is there to stop. Rollback records, failed
        and refused fixes do not count: they changed nothing.
        """
        moment = now if now is not None else datetime.now(timezone.utc)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        since = format_time(moment - timedelta(seconds=within_seconds))
        rows = self._read(
            "SELECT count(*) FROM fixes WHERE issue_fingerprint = ? AND created_at >= ? "
            "AND rollback_of IS NULL AND outcome IN ('applied', 'rolled_back')",
            (issue_fingerprint, since),
        )
        return int(rows[0][0])

    # -- queue

    def enqueue(
        self,
        plan_id: str,
        kind: str,
        title: str,
        severity: Severity,
        payload_json: str,
        *,
        priority: int | None = None,
        issue_fingerprint: str = "",
        database: str | None = None,
    ) -> QueueEntry:
        """Queue a fix and return its entry. While an entry of the same `plan_id` is queued,
        return that one instead (a duplicate is dropped). `priority` defaults to the
        severity's rank (critical 3 ... low 0)."""
        severity = Severity(severity)
        rank = severity.rank if priority is None else priority
        with self._write() as conn:
            existing = conn.execute(
                f"SELECT {QUEUE_COLUMNS} FROM queue WHERE plan_id = ? AND status = 'queued'",
                (plan_id,),
            ).fetchall()
            if existing:
                return entry_from_row(existing[0])
            cursor = conn.execute(
                "INSERT INTO queue (plan_id, kind, title, priority, severity, issue_fingerprint, "
                "payload_json, database, created_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued')",
                (
                    plan_id,
                    kind,
                    title,
                    rank,
                    severity.value,
                    issue_fingerprint,
                    payload_json,
                    database,
                    utc_now(),
                ),
            )
            row = conn.execute(
                f"SELECT {QUEUE_COLUMNS} FROM queue WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return entry_from_row(row)

    def queued(self) -> list[QueueEntry]:
        """Return the queued entries in the order to apply them: highest priority first, then
        worst severity, then oldest."""
        rows = self._read(
            f"SELECT {QUEUE_COLUMNS} FROM queue WHERE status = 'queued' "
            f"ORDER BY priority DESC, {_SEVERITY_ORDER} DESC, created_at, id"
        )
        return [entry_from_row(row) for row in rows]

    def entry(self, entry_id: int) -> QueueEntry | None:
        """Return the queue entry of that id (whatever its status), or None."""
        rows = self._read(f"SELECT {QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,))
        return entry_from_row(rows[0]) if rows else None

    def set_status(self, entry_id: int, status: str) -> QueueEntry:
        """Set the status of a queue entry and return it. Raise KeyError for an unknown entry,
        ValueError for an unknown status, StateError when requeueing a plan already queued."""
        if status not in QUEUE_STATUSES:
            names = ", ".join(sorted(QUEUE_STATUSES))
            raise ValueError(f"unknown queue status {status!r} (expected one of: {names})")
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "UPDATE queue SET status = ? WHERE id = ?", (status, entry_id)
                )
                if cursor.rowcount == 0:
                    raise KeyError(f"no queue entry {entry_id}")
                row = conn.execute(
                    f"SELECT {QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,)
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise StateError(
                f"queue entry {entry_id} cannot be queued again: its plan is already queued"
            ) from exc
        return entry_from_row(row)

    def replan_entry(
        self,
        entry_id: int,
        plan_id: str,
        kind: str,
        title: str,
        payload_json: str,
        *,
        issue_fingerprint: str = "",
    ) -> QueueEntry:
        """Give a queued entry its plan made again; its id, priority and age stay.

        Raise KeyError when no such entry is queued, StateError when another queued entry
        already holds `plan_id` (the caller drops one of the two)."""
        try:
            with self._write() as conn:
                cursor = conn.execute(
                    "UPDATE queue SET plan_id = ?, kind = ?, title = ?, payload_json = ?, "
                    "issue_fingerprint = ? WHERE id = ? AND status = 'queued'",
                    (plan_id, kind, title, payload_json, issue_fingerprint, entry_id),
                )
                if cursor.rowcount == 0:
                    raise KeyError(f"no queued entry {entry_id}")
                row = conn.execute(
                    f"SELECT {QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,)
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise StateError(
                f"queue entry {entry_id} cannot take plan {plan_id}: another entry has it"
            ) from exc
        return entry_from_row(row)


def _normal_record(record: FixRecord) -> FixRecord:
    return replace(
        record,
        created_at=normal_time(record.created_at),
        rolled_back_at=None
        if record.rolled_back_at is None
        else normal_time(record.rolled_back_at),
    )


def _insert_fix(conn: sqlite3.Connection, record: FixRecord) -> None:
    """Add `record` to the history in the open transaction of `conn`; raise StateError if a fix
    of that id is there already."""
    try:
        conn.execute(
            f"INSERT INTO fixes ({FIX_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            fix_params(record),
        )
    except sqlite3.IntegrityError as exc:
        raise StateError(f"a fix {record.id} is already in the history") from exc


def _stored_fix(conn: sqlite3.Connection, fix_id: str) -> FixRecord:
    """Return fix `fix_id` as the open transaction of `conn` sees it; raise KeyError if there is
    no such fix."""
    row = conn.execute(f"SELECT {FIX_COLUMNS} FROM fixes WHERE id = ?", (fix_id,)).fetchone()
    if row is None:
        raise KeyError(f"no fix {fix_id} in the history")
    return fix_from_row(row)


def _open_state_file(root: Path, path: Path, timeout: float) -> sqlite3.Connection:
    """Open (creating if needed) the state file `path` of the project at `root`, migrated and
    in WAL mode; raise StateError saying why it cannot be."""
    from dbheal_lsp.files import UnsafeStateDir, check_private_dir, refuse_links

    try:
        # `.dbheal/` is dbheal's own (0700, ignored by git); a link there, at the folder, at
        # its backups or locks, or at one of SQLite's files, would make dbheal write (and
        # prune) wherever a repository points.
        folder = check_private_dir(root, "backups", "locks")
        refuse_links(folder, *(STATE_FILE + s for s in ("", "-wal", "-shm", "-journal")))
    except UnsafeStateDir as exc:
        raise StateError(str(exc)) from exc
    except OSError as exc:
        raise StateError(f"cannot open the dbheal state file {path}: {exc}") from exc
    try:
        conn = sqlite3.connect(
            path,
            timeout=timeout,
            isolation_level=None,  # autocommit: transactions are begun explicitly below
            check_same_thread=False,  # shared by threads, always behind a lock
        )
    except (OSError, sqlite3.Error) as exc:
        raise StateError(f"cannot open the dbheal state file {path}: {exc}") from exc
    try:
        prepare(conn, timeout)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StateError(f"cannot use the dbheal state file {path}: {exc}") from exc
    return conn
