"""The safety layer's storage: fix history, the fix queue, runtime events and scans.

Everything lives in one SQLite file, `<project root>/.dbheal/state.sqlite`, so that the language
server, the CLI, the git hook, the runtime wrapper and the admin page (several processes, several
threads each) share one history and one queue, and both survive a restart.

Concurrency: the file is in WAL mode (readers never block the writer), every connection waits up
to a busy timeout (5 s) for a lock, and every write starts with `BEGIN IMMEDIATE`, which takes the
write lock up front. A deferred transaction that reads first and writes later cannot wait for the
lock in WAL mode (SQLite returns "database is locked" at once to avoid a deadlock), so writes never
start deferred. One `StateStore` holds one connection, guarded by a lock, for all its threads.

The schema is versioned with `PRAGMA user_version`: `MIGRATIONS[n]` brings a file from version n
to n + 1, so a later version adds a function to the tuple (say, to add a column) and every
existing file is brought up to date when it is opened.

This module also holds the JSON forms of the fix values of `dbheal_lsp.model` (MigrationPlan,
CodeFix, VerifyReport, LossyReport): history records and queue entries store them as JSON, and
the admin page shows them again from it.
"""

from __future__ import annotations

import enum
import json
import os
import secrets
import sqlite3
import threading
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, TypeVar

from dbheal_lsp.model import (
    CheckResult,
    CodeFix,
    LossyReport,
    MigrationPlan,
    PlanStep,
    Severity,
    Span,
    TextEdit,
    VerifyCheck,
    VerifyReport,
)

__all__ = [
    "FIX_KINDS",
    "FIX_OUTCOMES",
    "MIGRATIONS",
    "QUEUE_STATUSES",
    "SCAN_TRIGGERS",
    "SCHEMA_VERSION",
    "STATE_DIR",
    "STATE_FILE",
    "FixRecord",
    "QueueEntry",
    "RuntimeEvent",
    "ScanRecord",
    "StateError",
    "StateStore",
    "change_from_dict",
    "change_to_dict",
    "changes_from_json",
    "changes_to_json",
    "fix_from_dict",
    "fix_from_json",
    "fix_to_dict",
    "fix_to_json",
    "lossy_from_dict",
    "lossy_from_json",
    "lossy_to_dict",
    "lossy_to_json",
    "migrate",
    "parse_time",
    "plan_from_dict",
    "plan_from_json",
    "plan_to_dict",
    "plan_to_json",
    "state_path",
    "utc_now",
    "verify_from_dict",
    "verify_from_json",
    "verify_to_dict",
    "verify_to_json",
]

STATE_DIR = ".dbheal"
STATE_FILE = "state.sqlite"

FIX_KINDS: frozenset[str] = frozenset({"code", "schema", "both"})
FIX_OUTCOMES: frozenset[str] = frozenset({"applied", "failed", "refused", "rolled_back"})
# "done elsewhere": what the entry would change was done meanwhile (by heal, by another entry,
# at run time) or is not needed any more; "dropped": a duplicate of an entry queued earlier.
QUEUE_STATUSES: frozenset[str] = frozenset(
    {"queued", "applied", "dropped", "failed", "done elsewhere"}
)
SCAN_TRIGGERS: frozenset[str] = frozenset(
    {"cli", "startup", "periodic", "save", "watch", "manual", "hook"}
)

DEFAULT_TIMEOUT = 5.0


class StateError(Exception):
    """The state file cannot be opened or a change to it is not allowed."""


# --- time ---------------------------------------------------------------------------------------


def utc_now() -> str:
    """Return the current time as the ISO UTC text every record stores."""
    return _format_time(datetime.now(timezone.utc))


def parse_time(text: str) -> datetime:
    """Return the aware UTC datetime of an ISO text (a trailing "Z" is accepted), or raise
    ValueError. Naive times are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _format_time(value: datetime) -> str:
    # One fixed width format, so that stored times compare correctly as text in SQL.
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _normal_time(text: str) -> str:
    return _format_time(parse_time(text))


# --- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixRecord:
    """One fix in the history: what was planned, where it was backed up, how it went.

    `database`, `files` and `backup_dir` are relative to the project root (posix separators); a
    database outside the root is kept as an absolute path. `plan_text` is the printable plan (the
    SQL script or the diff), `plan_json` the plan value(s) for re-display (see `changes_to_json`).
    A rollback is recorded as a fix of its own with `rollback_of` set to the fix it undid.
    """

    id: str
    created_at: str
    kind: str  # "code" | "schema" | "both"
    title: str
    issue_fingerprint: str = ""
    plan_id: str = ""
    plan_text: str = ""
    plan_json: str = ""
    database: str | None = None
    files: tuple[str, ...] = ()
    backup_dir: str | None = None
    verify: VerifyReport = field(default_factory=VerifyReport)
    outcome: str = "applied"  # "applied" | "failed" | "refused" | "rolled_back"
    message: str = ""
    rolled_back_at: str | None = None
    rollback_of: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FIX_KINDS:
            raise ValueError(
                f"unknown fix kind {self.kind!r} (expected one of: code, schema, both)"
            )
        if self.outcome not in FIX_OUTCOMES:
            names = ", ".join(sorted(FIX_OUTCOMES))
            raise ValueError(f"unknown fix outcome {self.outcome!r} (expected one of: {names})")
        # Accept any sequence of paths, but keep the record hashable and immutable.
        object.__setattr__(self, "files", tuple(self.files))

    @property
    def outcome_label(self) -> str:
        """What the history (CLI and admin page) calls this record: a rollback is "rolled
        back", the fix it undid "undone" (their stored outcomes are "applied" and
        "rolled_back"), any other its outcome."""
        if self.rollback_of:
            return "rolled back"
        if self.outcome == "rolled_back":
            return "undone"
        return self.outcome

    @property
    def can_roll_back(self) -> bool:
        """Return whether this fix is applied, not undone and not itself a rollback."""
        return self.outcome == "applied" and self.rollback_of is None


@dataclass(frozen=True)
class QueueEntry:
    """A fix waiting to be applied, with what orders it in the queue."""

    id: int
    plan_id: str
    kind: str
    title: str
    priority: int  # higher first; the severity's rank unless the caller chose another
    severity: Severity
    issue_fingerprint: str
    payload_json: str  # the plan, as `changes_to_json` (or `plan_to_json`/`fix_to_json`) wrote it
    database: str | None
    created_at: str
    status: str  # "queued" | "applied" | "dropped" | "failed" | "done elsewhere"


@dataclass(frozen=True)
class RuntimeEvent:
    """A database error the runtime wrapper saw in the running application, and what it did."""

    id: int
    time: str
    error: str
    statement: str
    path: str | None = None
    line: int | None = None
    action: str = ""
    outcome: str = ""
    table: str | None = None


@dataclass(frozen=True)
class ScanRecord:
    """One scan of the workspace: why it ran, how much it read, what it found, how long it took."""

    id: int
    time: str
    trigger: str  # "cli" | "startup" | "periodic" | "save" | "watch" | "manual" | "hook"
    files: int
    statements: int
    counts_by_severity: dict[str, int]
    counts_by_type: dict[str, int]
    duration_ms: float


# --- schema -------------------------------------------------------------------------------------


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
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


def state_path(root: Path) -> Path:
    """Return the path of the state file of the project at `root`."""
    return Path(root) / STATE_DIR / STATE_FILE


def record_cli_scan(
    root: Path, paths: Sequence[Path], result: CheckResult, duration_ms: float
) -> bool:
    """Record a `dbheal check` run as a scan (trigger "cli") and return whether it was.

    Only a check of the whole project is a point of "Issues over time" (one file's issues would
    look like a drop), and only where dbheal's state already exists (the editor, the admin or a
    fix made `.dbheal/`): a check in a fresh clone or in CI writes nothing in the project.
    Never raises: a state file that cannot be written must not fail the check."""
    base = os.path.realpath(root)
    whole = any(
        os.path.commonpath([base, os.path.realpath(p)]) == os.path.realpath(p) for p in paths
    )
    if not whole or not state_path(root).is_file():
        return False
    by_severity: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for issue in result.issues:
        by_severity[issue.severity.value] = by_severity.get(issue.severity.value, 0) + 1
        by_type[issue.type.value] = by_type.get(issue.type.value, 0) + 1
    try:
        with StateStore(root) as store:
            store.record_scan(
                "cli",
                result.files_checked,
                result.statements_checked,
                by_severity,
                by_type,
                duration_ms,
            )
    except (StateError, OSError, sqlite3.Error, ValueError):
        return False
    return True


# --- the store ----------------------------------------------------------------------------------


class _Unset(enum.Enum):
    UNSET = 0


_UNSET = _Unset.UNSET

_FIX_COLUMNS = (
    "id, created_at, kind, title, issue_fingerprint, plan_id, plan_text, plan_json, database, "
    "files, backup_dir, verify, outcome, message, rolled_back_at, rollback_of"
)
_QUEUE_COLUMNS = (
    "id, plan_id, kind, title, priority, severity, issue_fingerprint, payload_json, database, "
    "created_at, status"
)
_EVENT_COLUMNS = 'id, time, error, statement, path, line, action, outcome, "table"'
_SCAN_COLUMNS = (
    "id, time, trigger, files, statements, counts_by_severity, counts_by_type, duration_ms"
)
_SEVERITY_ORDER = (
    "CASE severity WHEN 'critical' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 ELSE 0 END"
)


class StateStore:
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

    def _open(self) -> sqlite3.Connection:
        from dbheal_lsp.files import UnsafeStateDir, check_private_dir, refuse_links

        try:
            # `.dbheal/` is dbheal's own (0700, ignored by git); a link there, at the folder, at
            # its backups or locks, or at one of SQLite's files, would make dbheal write (and
            # prune) wherever a repository points.
            folder = check_private_dir(self.root, "backups", "locks")
            refuse_links(folder, *(STATE_FILE + s for s in ("", "-wal", "-shm", "-journal")))
        except UnsafeStateDir as exc:
            raise StateError(str(exc)) from exc
        except OSError as exc:
            raise StateError(f"cannot open the dbheal state file {self.path}: {exc}") from exc
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,  # autocommit: transactions are begun explicitly below
                check_same_thread=False,  # shared by threads, always behind self._lock
            )
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open the dbheal state file {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            # Switching a new file to WAL needs a moment of exclusive access; another process
            # creating the same file at that instant can make it fail without waiting, so retry.
            deadline = _time.monotonic() + self.timeout
            while True:
                try:
                    conn.execute("PRAGMA journal_mode = WAL").fetchone()
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or _time.monotonic() > deadline:
                        raise
                    _time.sleep(0.02)
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StateError(f"cannot use the dbheal state file {self.path}: {exc}") from exc
        return conn

    def _connection(self) -> sqlite3.Connection:
        # A connection must not be used on both sides of a fork: a child opens its own, and
        # leaves the inherited one alone (closing it could release the parent's locks).
        if self._conn is None or self._pid != os.getpid():
            self._conn = self._open()
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
            changes: dict[str, Any] = {}
            if outcome is not None:
                changes["outcome"] = outcome
            if message is not None:
                changes["message"] = message
            if verify is not None:
                changes["verify"] = verify
            if plan_text is not None:
                changes["plan_text"] = plan_text
            if plan_json is not None:
                changes["plan_json"] = plan_json
            if files is not None:
                changes["files"] = tuple(files)
            if database is not _UNSET:
                changes["database"] = database
            if backup_dir is not _UNSET:
                changes["backup_dir"] = backup_dir
            if rolled_back_at is not _UNSET:
                changes["rolled_back_at"] = rolled_back_at
            record = _normal_record(replace(record, **changes))
            params = _fix_params(record)
            conn.execute(
                "UPDATE fixes SET created_at = ?, kind = ?, title = ?, issue_fingerprint = ?, "
                "plan_id = ?, plan_text = ?, plan_json = ?, database = ?, files = ?, "
                "backup_dir = ?, verify = ?, outcome = ?, message = ?, rolled_back_at = ?, "
                "rollback_of = ? WHERE id = ?",
                (*params[1:], record.id),
            )
        return record

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
        rows = self._read(f"SELECT {_FIX_COLUMNS} FROM fixes WHERE id = ?", (fix_id,))
        return _fix_from_row(rows[0]) if rows else None

    def fixes(self, limit: int | None = None) -> list[FixRecord]:
        """Return the fix records, newest first (at most `limit` of them)."""
        sql = f"SELECT {_FIX_COLUMNS} FROM fixes ORDER BY created_at DESC, id DESC"
        params: tuple[object, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (max(limit, 0),)
        return [_fix_from_row(row) for row in self._read(sql, params)]

    def fixes_after(self, fix_id: str) -> list[FixRecord]:
        """Return the fixes recorded after fix `fix_id`, oldest first ([] if it is unknown)."""
        rows = self._read(
            f"SELECT {_FIX_COLUMNS} FROM fixes WHERE (created_at, id) > "
            "(SELECT created_at, id FROM fixes WHERE id = ?) ORDER BY created_at, id",
            (fix_id,),
        )
        return [_fix_from_row(row) for row in rows]

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
        since = _format_time(moment - timedelta(seconds=within_seconds))
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
                f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE plan_id = ? AND status = 'queued'",
                (plan_id,),
            ).fetchall()
            if existing:
                return _entry_from_row(existing[0])
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
                f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _entry_from_row(row)

    def queued(self) -> list[QueueEntry]:
        """Return the queued entries in the order to apply them: highest priority first, then
        worst severity, then oldest."""
        rows = self._read(
            f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE status = 'queued' "
            f"ORDER BY priority DESC, {_SEVERITY_ORDER} DESC, created_at, id"
        )
        return [_entry_from_row(row) for row in rows]

    def entry(self, entry_id: int) -> QueueEntry | None:
        """Return the queue entry of that id (whatever its status), or None."""
        rows = self._read(f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,))
        return _entry_from_row(rows[0]) if rows else None

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
                    f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,)
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise StateError(
                f"queue entry {entry_id} cannot be queued again: its plan is already queued"
            ) from exc
        return _entry_from_row(row)

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
                    f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,)
                ).fetchone()
        except sqlite3.IntegrityError as exc:
            raise StateError(
                f"queue entry {entry_id} cannot take plan {plan_id}: another entry has it"
            ) from exc
        return _entry_from_row(row)

    # -- runtime events

    def record_event(
        self,
        error: str,
        statement: str,
        *,
        path: str | None = None,
        line: int | None = None,
        action: str = "",
        outcome: str = "",
        table: str | None = None,
        time: str | None = None,
    ) -> RuntimeEvent:
        """Store a runtime event (time defaults to now) and return it. Only the newest
        `max_events` events are kept."""
        when = utc_now() if time is None else _normal_time(time)
        with self._write() as conn:
            cursor = conn.execute(
                f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                (when, error, statement, path, line, action, outcome, table),
            )
            new_id = int(cursor.lastrowid or 0)
            conn.execute("DELETE FROM events WHERE id <= ?", (new_id - self.max_events,))
        return RuntimeEvent(new_id, when, error, statement, path, line, action, outcome, table)

    def events(self, limit: int = 100) -> list[RuntimeEvent]:
        """Return the newest runtime events, newest first."""
        rows = self._read(
            f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY time DESC, id DESC LIMIT ?",
            (max(limit, 0),),
        )
        return [RuntimeEvent(*row) for row in rows]

    # -- scans

    def record_scan(
        self,
        trigger: str,
        files: int,
        statements: int,
        counts_by_severity: Mapping[str, int],
        counts_by_type: Mapping[str, int],
        duration_ms: float,
        *,
        time: str | None = None,
    ) -> ScanRecord:
        """Store a scan (time defaults to now) and return it. Only the newest `max_scans`
        scans are kept."""
        if trigger not in SCAN_TRIGGERS:
            names = ", ".join(sorted(SCAN_TRIGGERS))
            raise ValueError(f"unknown scan trigger {trigger!r} (expected one of: {names})")
        when = utc_now() if time is None else _normal_time(time)
        by_severity = {str(k): int(v) for k, v in counts_by_severity.items()}
        by_type = {str(k): int(v) for k, v in counts_by_type.items()}
        with self._write() as conn:
            cursor = conn.execute(
                f"INSERT INTO scans ({_SCAN_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)",
                (
                    when,
                    trigger,
                    files,
                    statements,
                    json.dumps(by_severity, sort_keys=True),
                    json.dumps(by_type, sort_keys=True),
                    float(duration_ms),
                ),
            )
            new_id = int(cursor.lastrowid or 0)
            conn.execute("DELETE FROM scans WHERE id <= ?", (new_id - self.max_scans,))
        return ScanRecord(
            new_id, when, trigger, files, statements, by_severity, by_type, float(duration_ms)
        )

    def scans(self, limit: int = 100) -> list[ScanRecord]:
        """Return the newest scans, newest first."""
        rows = self._read(
            f"SELECT {_SCAN_COLUMNS} FROM scans ORDER BY time DESC, id DESC LIMIT ?",
            (max(limit, 0),),
        )
        return [
            ScanRecord(
                int(row[0]),
                str(row[1]),
                str(row[2]),
                int(row[3]),
                int(row[4]),
                _int_dict(row[5]),
                _int_dict(row[6]),
                float(row[7]),
            )
            for row in rows
        ]


def _normal_record(record: FixRecord) -> FixRecord:
    return replace(
        record,
        created_at=_normal_time(record.created_at),
        rolled_back_at=None
        if record.rolled_back_at is None
        else _normal_time(record.rolled_back_at),
    )


def _fix_params(record: FixRecord) -> tuple[object, ...]:
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
        verify_to_json(record.verify),
        record.outcome,
        record.message,
        record.rolled_back_at,
        record.rollback_of,
    )


def _insert_fix(conn: sqlite3.Connection, record: FixRecord) -> None:
    """Add `record` to the history in the open transaction of `conn`; raise StateError if a fix
    of that id is there already."""
    try:
        conn.execute(
            f"INSERT INTO fixes ({_FIX_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _fix_params(record),
        )
    except sqlite3.IntegrityError as exc:
        raise StateError(f"a fix {record.id} is already in the history") from exc


def _stored_fix(conn: sqlite3.Connection, fix_id: str) -> FixRecord:
    """Return fix `fix_id` as the open transaction of `conn` sees it; raise KeyError if there is
    no such fix."""
    row = conn.execute(f"SELECT {_FIX_COLUMNS} FROM fixes WHERE id = ?", (fix_id,)).fetchone()
    if row is None:
        raise KeyError(f"no fix {fix_id} in the history")
    return _fix_from_row(row)


def _fix_from_row(row: Sequence[Any]) -> FixRecord:
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
        verify=verify_from_json(row[11]) if row[11] and row[11] != "{}" else VerifyReport(),
        outcome=str(row[12]),
        message=str(row[13]),
        rolled_back_at=None if row[14] is None else str(row[14]),
        rollback_of=None if row[15] is None else str(row[15]),
    )


def _entry_from_row(row: Sequence[Any]) -> QueueEntry:
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


# --- JSON forms of the fix values ---------------------------------------------------------------
#
# Each value is a JSON object with a "type" tag, so that a stored payload says what it is. Readers
# accept objects written before a field existed (its default is used), because history records
# outlive the version of dbheal that wrote them.

_MISSING: Any = object()


class _Reader:
    """Typed access to one JSON object, with errors that say which value is wrong."""

    def __init__(self, data: object, what: str, tag: str | None = None) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{what}: expected a JSON object, got {type(data).__name__}")
        if tag is not None and data.get("type", tag) != tag:
            raise ValueError(f"{what}: expected type {tag!r}, got {data.get('type')!r}")
        self.data: dict[str, Any] = data
        self.what = what

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise ValueError(f"{self.what}: missing {key!r}")
        return default

    def _fail(self, key: str, expected: str) -> ValueError:
        return ValueError(f"{self.what}: {key!r} should be {expected}, got {self.data[key]!r}")

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, None)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def integer(self, key: str, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def items(self, key: str, default: Any = _MISSING) -> list[Any]:
        value = self._get(key, default)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        items = self.items(key, [])
        if not all(isinstance(item, str) for item in items):
            raise self._fail(key, "a list of strings")
        return tuple(items)

    def integers(self, key: str) -> tuple[int, ...]:
        items = self.items(key, [])
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
            raise self._fail(key, "a list of integers")
        return tuple(items)


def _loads(text: str | bytes, what: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what}: not valid JSON ({exc})") from exc


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


_Value = TypeVar("_Value")


def _json_functions(
    name: str,
    what: str,
    to_dict: Callable[[_Value], dict[str, Any]],
    from_dict: Callable[[object], _Value],
) -> tuple[Callable[[_Value], str], Callable[[str | bytes], _Value]]:
    """Return `<name>_to_json` and `<name>_from_json`, the JSON text forms of a value whose JSON
    object `to_dict` writes and `from_dict` reads. Every value goes to and from text the same
    way, so the pair is made here once; `what` names the value in errors and docstrings."""

    def to_json(value: _Value) -> str:
        return _dumps(to_dict(value))

    def from_json(text: str | bytes) -> _Value:
        return from_dict(_loads(text, what))

    to_json.__name__ = to_json.__qualname__ = f"{name}_to_json"
    to_json.__doc__ = f"Return the JSON text of a {what}."
    from_json.__name__ = from_json.__qualname__ = f"{name}_from_json"
    from_json.__doc__ = (
        f"Return the {what} of a JSON text from `{name}_to_json`, or raise ValueError."
    )
    return to_json, from_json


def plan_to_dict(plan: MigrationPlan) -> dict[str, Any]:
    """Return the JSON object of a migration plan."""
    return {
        "type": "migration_plan",
        "id": plan.id,
        "kind": plan.kind,
        "title": plan.title,
        "description": plan.description,
        "table": plan.table,
        "steps": [{"sql": step.sql, "kind": step.kind} for step in plan.steps],
        "expected": plan.expected,
        "issue_fingerprint": plan.issue_fingerprint,
        "column": plan.column,
        "new_type": plan.new_type,
        "schema_version": plan.schema_version,
        "migration_name": plan.migration_name,
        "foreign_keys_off": plan.foreign_keys_off,
        "check_sql": list(plan.check_sql),
        "index_columns": list(plan.index_columns),
    }


def plan_from_dict(data: object) -> MigrationPlan:
    """Return the migration plan of a JSON object from `plan_to_dict`, or raise ValueError."""
    r = _Reader(data, "migration plan", "migration_plan")
    steps = []
    for index, item in enumerate(r.items("steps")):
        s = _Reader(item, f"migration plan step {index + 1}")
        steps.append(PlanStep(sql=s.text("sql"), kind=s.text("kind", "sql")))
    return MigrationPlan(
        id=r.text("id"),
        kind=r.text("kind"),
        title=r.text("title"),
        description=r.text("description", ""),
        table=r.text("table"),
        steps=tuple(steps),
        expected=r.text("expected", ""),
        issue_fingerprint=r.text("issue_fingerprint", ""),
        column=r.opt_text("column"),
        new_type=r.opt_text("new_type"),
        schema_version=r.integer("schema_version", -1),
        migration_name=r.text("migration_name", ""),
        foreign_keys_off=r.boolean("foreign_keys_off", False),
        check_sql=r.texts("check_sql"),
        index_columns=r.texts("index_columns"),
    )


plan_to_json, plan_from_json = _json_functions(
    "plan", "migration plan", plan_to_dict, plan_from_dict
)


def fix_to_dict(fix: CodeFix) -> dict[str, Any]:
    """Return the JSON object of a code fix (spans as [line, column, end_line, end_column])."""
    return {
        "type": "code_fix",
        "id": fix.id,
        "kind": fix.kind,
        "title": fix.title,
        "path": fix.path,
        "issue_fingerprint": fix.issue_fingerprint,
        "edits": [
            {
                "path": edit.path,
                "span": [
                    edit.span.line,
                    edit.span.column,
                    edit.span.end_line,
                    edit.span.end_column,
                ],
                "new_text": edit.new_text,
            }
            for edit in fix.edits
        ],
        "source_hash": fix.source_hash,
    }


def fix_from_dict(data: object) -> CodeFix:
    """Return the code fix of a JSON object from `fix_to_dict`, or raise ValueError."""
    r = _Reader(data, "code fix", "code_fix")
    edits = []
    for index, item in enumerate(r.items("edits")):
        e = _Reader(item, f"code fix edit {index + 1}")
        span = e.integers("span")
        if len(span) != 4:
            raise ValueError(f"code fix edit {index + 1}: 'span' should have 4 integers")
        edits.append(TextEdit(path=e.text("path"), span=Span(*span), new_text=e.text("new_text")))
    return CodeFix(
        id=r.text("id"),
        kind=r.text("kind"),
        title=r.text("title"),
        path=r.text("path"),
        issue_fingerprint=r.text("issue_fingerprint", ""),
        edits=tuple(edits),
        source_hash=r.text("source_hash", ""),
    )


fix_to_json, fix_from_json = _json_functions("fix", "code fix", fix_to_dict, fix_from_dict)


def verify_to_dict(report: VerifyReport) -> dict[str, Any]:
    """Return the JSON object of a verification report."""
    return {
        "type": "verify_report",
        "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
    }


def verify_from_dict(data: object) -> VerifyReport:
    """Return the verification report of a JSON object from `verify_to_dict`, or raise
    ValueError."""
    r = _Reader(data, "verify report", "verify_report")
    checks = []
    for index, item in enumerate(r.items("checks", [])):
        c = _Reader(item, f"verify check {index + 1}")
        checks.append(
            VerifyCheck(name=c.text("name"), ok=c.boolean("ok"), detail=c.text("detail", ""))
        )
    return VerifyReport(checks=tuple(checks))


verify_to_json, verify_from_json = _json_functions(
    "verify", "verify report", verify_to_dict, verify_from_dict
)


def lossy_to_dict(report: LossyReport) -> dict[str, Any]:
    """Return the JSON object of a lossy-conversion report."""
    return {
        "type": "lossy_report",
        "table": report.table,
        "column": report.column,
        "new_type": report.new_type,
        "total_rows": report.total_rows,
        "lossy_count": report.lossy_count,
        "first_rowids": list(report.first_rowids),
        "examples": list(report.examples),
    }


def lossy_from_dict(data: object) -> LossyReport:
    """Return the lossy-conversion report of a JSON object from `lossy_to_dict`, or raise
    ValueError."""
    r = _Reader(data, "lossy report", "lossy_report")
    return LossyReport(
        table=r.text("table"),
        column=r.text("column"),
        new_type=r.text("new_type"),
        total_rows=r.integer("total_rows"),
        lossy_count=r.integer("lossy_count"),
        first_rowids=r.integers("first_rowids"),
        examples=r.texts("examples"),
    )


lossy_to_json, lossy_from_json = _json_functions(
    "lossy", "lossy report", lossy_to_dict, lossy_from_dict
)


def change_to_dict(change: MigrationPlan | CodeFix) -> dict[str, Any]:
    """Return the JSON object of a migration plan or a code fix (tagged by "type")."""
    if isinstance(change, MigrationPlan):
        return plan_to_dict(change)
    return fix_to_dict(change)


def change_from_dict(data: object) -> MigrationPlan | CodeFix:
    """Return the migration plan or code fix of a JSON object from `change_to_dict`."""
    tag = data.get("type") if isinstance(data, dict) else None
    if tag == "migration_plan":
        return plan_from_dict(data)
    if tag == "code_fix":
        return fix_from_dict(data)
    raise ValueError(f"expected a migration plan or a code fix, got type {tag!r}")


def changes_to_json(changes: Sequence[MigrationPlan | CodeFix]) -> str:
    """Return the JSON text (a list) of the plans and code fixes of one fix: what
    `FixRecord.plan_json` holds, one item for a code or schema fix, several for "both"."""
    return _dumps([change_to_dict(c) for c in changes])


def changes_from_json(text: str | bytes) -> tuple[MigrationPlan | CodeFix, ...]:
    """Return the plans and code fixes of a JSON text from `changes_to_json`; a single object
    (from `plan_to_json` or `fix_to_json`) is accepted too."""
    data = _loads(text, "fix plan")
    items = data if isinstance(data, list) else [data]
    return tuple(change_from_dict(item) for item in items)
