"""The live database's health, and the errors the running application met, as engine values.

Two things the language server runs besides checking code, kept here so that they stay plain
engine code (no pygls, no lsprotocol) that any front door can call:

- `health_check` is the periodic check of the live database: SQLite's own `quick_check` (or the
  full `integrity_check`) and `foreign_key_check` (on a PostgreSQL server: its foreign keys and
  invalid indexes, `Database.integrity`), read-only and with a busy timeout, plus the
  database's drift from its migrations as the SCHEMA_DRIFT issues a check of the migrations
  reports. Integrity and foreign-key problems have no place in a source file, so they are only
  in the report's message and fields (the server shows them as a window message); the drift is
  returned as issues on the migration lines.
- `runtime_event_issues` turns the database errors the runtime wrapper recorded in
  `.dbheal/state.sqlite` into issues on the lines of code that raised them. It reads them from
  any `EventSource` (the state store is one): analysis never imports the fix machinery.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dbheal_lsp.analysis.migration_check import migration_issues
from dbheal_lsp.analysis.project import Project
from dbheal_lsp.config import excluded
from dbheal_lsp.database_url import redacted
from dbheal_lsp.databases import DatabaseError
from dbheal_lsp.databases.database import DEFAULT_BUSY_TIMEOUT, ForeignKeyViolation, SchemaError
from dbheal_lsp.model import Issue, IssueType, Severity, Span
from dbheal_lsp.records import RuntimeEvent, parse_time, utc_now

__all__ = [
    "MAX_ROWS",
    "EventSource",
    "ForeignKeyViolation",
    "HealthReport",
    "health_check",
    "runtime_event_issues",
]

#: At most this many rows of `quick_check`/`integrity_check` and of `foreign_key_check` are kept.
MAX_ROWS = 100

# What computing the drift may raise: the report then says it was not computed.
_NO_DRIFT: tuple[type[Exception], ...] = (SchemaError, OSError, *DatabaseError, ValueError)


@dataclass(frozen=True)
class HealthReport:
    """What one health check of the live database found.

    `ok` is true when the database could be read, its integrity check said "ok" and no foreign
    key is violated; drift from the migrations does not make it false (it is in `issues`).
    `integrity` holds the rows of the integrity check (`("ok",)` for a sound database, empty when
    the check could not run), `issues` the SCHEMA_DRIFT issues (and failing migrations) with
    paths relative to the project root, `checked_at` the ISO UTC time of the check, `message` a
    one-line summary for people.
    """

    ok: bool
    integrity: tuple[str, ...]
    foreign_key_violations: tuple[ForeignKeyViolation, ...]
    issues: tuple[Issue, ...]
    checked_at: str
    message: str


def health_check(
    project: Project, *, full: bool = False, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> HealthReport:
    """Check the project's live database read-only and return what was found; never raise.

    Runs the back end's integrity check (`Database.integrity`; for SQLite `PRAGMA quick_check`,
    or `integrity_check` when `full`, which reads every index too and costs much more, and
    `PRAGMA foreign_key_check`) in one read transaction, waiting at most
    `busy_timeout` seconds for another connection's lock, then the drift from the migrations
    exactly as a check of the migrations reports it. A missing, unreadable or locked database
    gives `ok=False` and a message that says so; the check simply runs again later.
    """
    checked_at = utc_now()
    config = project.config
    if config.database_url is not None:
        # A server checks its own pages: what is asked of it is its foreign keys and indexes.
        shown, pragma = redacted(config.database_url), "integrity (foreign keys, indexes)"
    elif config.database is not None:
        shown = config.relative(config.database)
        pragma = "integrity_check" if full else "quick_check"
    else:
        return _not_run(checked_at, "no database is configured ([tool.dbheal] database)")
    try:
        checked = project.database.integrity(
            full=full, busy_timeout=busy_timeout, max_rows=MAX_ROWS
        )
    except SchemaError as exc:
        return _not_run(checked_at, f"health check of {shown} not run: {exc}")
    except DatabaseError as exc:
        return _failed(checked_at, shown, busy_timeout, str(exc))
    integrity, violations, violation_count = (
        checked.lines,
        list(checked.violations),
        checked.violation_count,
    )

    issues: tuple[Issue, ...] = ()
    drift_note = ""
    try:
        # The same drift and the same issues as a check of the migrations: the editor must
        # show one finding once, whichever of the two reported it last.
        found = migration_issues(config, project.schema_state())
        issues = tuple(sorted(found, key=lambda i: (i.path, i.span, i.type.value)))
    except _NO_DRIFT as exc:
        drift_note = f"drift from the migrations not computed: {exc}"

    parts = _summary(pragma, integrity, violations, violation_count, issues)
    if drift_note:
        parts.append(drift_note)
    return HealthReport(
        ok=integrity == ("ok",) and violation_count == 0,
        integrity=integrity,
        foreign_key_violations=tuple(violations),
        issues=issues,
        checked_at=checked_at,
        message=f"{shown}: " + ", ".join(parts),
    )


def _failed(checked_at: str, shown: str, busy_timeout: float, text: str) -> HealthReport:
    """The report of checks that SQLite stopped with the error `text`."""
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return _not_run(
            checked_at,
            f"health check of {shown} not run: the database is locked by another connection "
            f"(waited {busy_timeout:g} s); it will be checked again later",
        )
    if "malformed" in lowered or "corrupt" in lowered or "not a database" in lowered:
        return HealthReport(False, (text,), (), (), checked_at, f"{shown} is corrupt: {text}")
    return _not_run(checked_at, f"health check of {shown} failed: {text}")


def _summary(
    pragma: str,
    integrity: tuple[str, ...],
    violations: list[ForeignKeyViolation],
    violation_count: int,
    issues: tuple[Issue, ...],
) -> list[str]:
    """The parts of the report's one-line message, in order."""
    parts: list[str] = []
    if integrity == ("ok",):
        parts.append(f"{pragma} ok")
    else:
        count = f"{len(integrity)}" if len(integrity) < MAX_ROWS else f"at least {MAX_ROWS}"
        shown_rows = "; ".join(integrity[:3]) + ("; ..." if len(integrity) > 3 else "")
        parts.append(f"{pragma} found {count} problem(s): {shown_rows}")
    if violation_count == 0:
        parts.append("no foreign-key violations")
    else:
        first = "; ".join(str(v) for v in violations[:3])
        parts.append(
            f"{violation_count} foreign-key violation(s): {first}"
            + ("; ..." if violation_count > 3 else "")
        )
    drift_count = sum(1 for i in issues if i.type is IssueType.SCHEMA_DRIFT)
    if drift_count:
        parts.append(f"{drift_count} difference(s) from the migrations")
    return parts


def _not_run(checked_at: str, message: str) -> HealthReport:
    return HealthReport(False, (), (), (), checked_at, message)


# --- runtime events -----------------------------------------------------------------------------

_HEALED_PREFIXES = ("healed", "applied", "fixed", "resolved")
_NO_SUCH_COLUMN = re.compile(r"no such column:\s*(\S+)", re.IGNORECASE)
_NO_SUCH_TABLE = re.compile(r"no such table:\s*(\S+)", re.IGNORECASE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class EventSource(Protocol):
    """Where runtime events are read from: `fixes.state.StateStore` is one."""

    def events(self, limit: int = 100) -> Sequence[RuntimeEvent]:
        """Return the newest `limit` runtime events, newest first."""
        ...


def runtime_event_issues(
    project: Project, store: EventSource, *, limit: int = 200
) -> tuple[Issue, ...]:
    """Return the newest `limit` runtime events as issues on the lines of code that raised them.

    Only events with a path inside the project (not in an excluded folder such as `.venv`) and a
    line that the file still has become issues; of several events with the same path, line and
    error only the newest counts. "no such table" gives MISSING_TABLE, "no such column"
    MISSING_COLUMN, anything else SQL_SYNTAX. The issue is critical unless the wrapper healed it
    (its outcome starts with "healed", "applied", "fixed" or "resolved"), low when it did. It
    spans the line's text without its indentation, and its fingerprint is
    `runtime:<event id>`. Times in messages are UTC.
    """
    config = project.config
    root = config.root.resolve()
    lines_of: dict[Path, list[str] | None] = {}
    seen: set[tuple[str, int, str]] = set()
    issues: list[Issue] = []
    for event in store.events(limit):  # newest first
        if not event.path or event.line is None or event.line < 1:
            continue
        file = Path(event.path)
        file = (file if file.is_absolute() else root / file).resolve()
        try:
            rel_parts = file.relative_to(root).parts
        except ValueError:
            continue  # outside the project
        if not rel_parts or excluded(rel_parts, config.exclude):
            continue
        rel = "/".join(rel_parts)
        key = (rel, event.line, event.error.strip())
        if key in seen:
            continue
        seen.add(key)
        if file not in lines_of:
            lines_of[file] = _read_lines(file)
        lines = lines_of[file]
        if lines is None or event.line > len(lines):
            continue  # not readable, or the file has changed since
        issues.append(_event_issue(event, rel, lines[event.line - 1]))
    return tuple(sorted(issues, key=lambda i: (i.path, i.span.line, i.fingerprint)))


def _read_lines(file: Path) -> list[str] | None:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # Python's own line breaks: splitlines() would also break at form feeds and the like.
    return _LINE_BREAK.split(text.removeprefix("\ufeff"))


def _event_issue(event: RuntimeEvent, rel: str, text: str) -> Issue:
    assert event.line is not None
    stripped = text.rstrip()
    indent = len(stripped) - len(stripped.lstrip())
    span = Span(event.line, indent + 1, event.line, max(len(stripped), indent + 1) + 1)
    error = event.error.strip()
    table = event.table
    column = None
    column_match = _NO_SUCH_COLUMN.search(error)
    table_match = _NO_SUCH_TABLE.search(error)
    if table_match:
        kind = IssueType.MISSING_TABLE
        table = table or table_match.group(1).strip("\"'`[]")
    elif column_match:
        kind = IssueType.MISSING_COLUMN
        column = column_match.group(1).strip("\"'`[]").rpartition(".")[2]
    else:
        kind = IssueType.SQL_SYNTAX
    healed, outcome = _outcome(event)
    return Issue(
        type=kind,
        severity=Severity.LOW if healed else Severity.CRITICAL,
        path=rel,
        span=span,
        message=f"at run time ({_when(event.time)}): {error} — {outcome}",
        table=table,
        column_name=column,
        sql=event.statement or None,
        fingerprint=f"runtime:{event.id}",
    )


def _outcome(event: RuntimeEvent) -> tuple[bool, str]:
    """Return whether the wrapper healed the error, and how to say what happened."""
    outcome = event.outcome.strip()
    action = event.action.strip()
    lowered = outcome.lower()
    if lowered.startswith("healed"):
        return True, outcome
    if lowered.startswith(_HEALED_PREFIXES):
        return True, f"healed: {action}" if action else "healed"
    detail = f"{action}: {outcome}" if action and outcome else action or outcome
    return False, f"not healed ({detail})" if detail else "not healed"


def _when(time: str) -> str:
    try:
        return parse_time(time).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return time
