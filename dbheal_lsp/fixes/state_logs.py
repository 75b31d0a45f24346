"""The two bounded logs of the state file: runtime events (what the runtime wrapper saw and
did) and scans (how many issues each check found, for "Issues over time"), and the recording of
a `dbheal check` run as a scan.

dbheal's own history store is a SQLite file whatever the user's database is, so this
module imports `sqlite3` itself, not through the database seam.
"""

from __future__ import annotations

import json
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from dbheal_lsp.fixes.state_schema import EVENT_COLUMNS, SCAN_COLUMNS, scan_from_row
from dbheal_lsp.model import CheckResult
from dbheal_lsp.records import (
    SCAN_TRIGGERS,
    RuntimeEvent,
    ScanRecord,
    format_time,
    parse_time,
    utc_now,
)


def normal_time(text: str) -> str:
    """Return the time `text` as the state file stores it: ISO 8601 in UTC."""
    return format_time(parse_time(text))


class EventLog(ABC):
    """The events and scans tables of `StateStore`, which this is part of: the store gives the
    connection (`_write`, `_read`) and the bounds (`max_events`, `max_scans`)."""

    max_events: int
    max_scans: int

    @abstractmethod
    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """The store's write transaction."""

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """The rows of a read on the store's connection."""

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
        when = utc_now() if time is None else normal_time(time)
        with self._write() as conn:
            cursor = conn.execute(
                f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                (when, error, statement, path, line, action, outcome, table),
            )
            new_id = int(cursor.lastrowid or 0)
            conn.execute("DELETE FROM events WHERE id <= ?", (new_id - self.max_events,))
        return RuntimeEvent(new_id, when, error, statement, path, line, action, outcome, table)

    def events(self, limit: int = 100) -> list[RuntimeEvent]:
        """Return the newest runtime events, newest first."""
        rows = self._read(
            f"SELECT {EVENT_COLUMNS} FROM events ORDER BY time DESC, id DESC LIMIT ?",
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
        when = utc_now() if time is None else normal_time(time)
        by_severity = {str(k): int(v) for k, v in counts_by_severity.items()}
        by_type = {str(k): int(v) for k, v in counts_by_type.items()}
        with self._write() as conn:
            cursor = conn.execute(
                f"INSERT INTO scans ({SCAN_COLUMNS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)",
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
            f"SELECT {SCAN_COLUMNS} FROM scans ORDER BY time DESC, id DESC LIMIT ?",
            (max(limit, 0),),
        )
        return [scan_from_row(row) for row in rows]


def record_cli_scan(
    root: Path, paths: Sequence[Path], result: CheckResult, duration_ms: float
) -> bool:
    """Record a `dbheal check` run as a scan (trigger "cli") and return whether it was.

    Only a check of the whole project is a point of "Issues over time" (one file's issues would
    look like a drop), and only where dbheal's state already exists (the editor, the admin or a
    fix made `.dbheal/`): a check in a fresh clone or in CI writes nothing in the project.
    Never raises: a state file that cannot be written must not fail the check."""
    # state.py builds its store on this module's EventLog: imported here, not at the top.
    from dbheal_lsp.fixes.state import StateError, StateStore, state_path

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
