"""Stored rows as values: fix history records, queue entries, runtime events, scans, and their times.

These are what `.dbheal/state.sqlite` holds, as plain frozen values with no storage code: the
state store (`fixes/state.py`) writes and reads them, while the health check, the admin page and
the CLI only read them. Kept below both `analysis` and `fixes` so that reading a runtime event
never means importing the fix machinery.

Every time is stored as ISO UTC text of one fixed width (`utc_now`, `format_time`), so that
stored times compare correctly as text in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from dbheal_lsp.model import Severity, VerifyReport

__all__ = [
    "FIX_KINDS",
    "FIX_OUTCOMES",
    "QUEUE_STATUSES",
    "SCAN_TRIGGERS",
    "FixRecord",
    "QueueEntry",
    "RuntimeEvent",
    "ScanRecord",
    "format_time",
    "parse_time",
    "utc_now",
]

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


# --- time ---------------------------------------------------------------------------------------


def utc_now() -> str:
    """Return the current time as the ISO UTC text every record stores."""
    return format_time(datetime.now(timezone.utc))


def parse_time(text: str) -> datetime:
    """Return the aware UTC datetime of an ISO text (a trailing "Z" is accepted), or raise
    ValueError. Naive times are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    """Return `value` as the stored ISO UTC text."""
    # One fixed width format, so that stored times compare correctly as text in SQL.
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


# --- rows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixRecord:
    """One fix in the history: what was planned, where it was backed up, how it went.

    `database`, `files` and `backup_dir` are relative to the project root (posix separators); a
    database outside the root is kept as an absolute path. `plan_text` is the printable plan (the
    SQL script or the diff), `plan_json` the plan value(s) for re-display (see
    `codec.changes_to_json`). A rollback is recorded as a fix of its own with `rollback_of` set
    to the fix it undid.
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
    payload_json: str  # the plan, as `codec.changes_to_json` (or `codec.to_json`) wrote it
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
