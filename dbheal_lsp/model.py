"""Domain values shared by every part of dbheal: issues, their positions, severities and types.

Everything here is a frozen dataclass or an enum, so that the engine's results can be cached,
compared, sent between processes and printed without surprises.

Positions follow one convention everywhere in the engine: lines are 1-based, columns are 1-based
Unicode code points, and the end of a span is exclusive (the column just past the last character).
Front doors convert to what they need (the LSP layer to 0-based UTF-16 units).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    """How bad an issue is, in the original design's four levels."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Return 3 for critical down to 0 for low, so that severities compare by badness."""
        return _SEVERITY_RANK[self.value]

    def at_least(self, other: Severity) -> bool:
        """Return whether this severity is as bad as `other` or worse."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Return the severity named by `text` (case-insensitive), or raise ValueError."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


_SEVERITY_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}


class IssueType(str, enum.Enum):
    """What kind of disagreement between code and database an issue reports."""

    MISSING_TABLE = "MISSING_TABLE"
    MISSING_COLUMN = "MISSING_COLUMN"
    SQL_SYNTAX = "SQL_SYNTAX"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    MISSING_INDEX = "MISSING_INDEX"
    SQL_INJECTION = "SQL_INJECTION"
    DYNAMIC_IDENTIFIER = "DYNAMIC_IDENTIFIER"
    SELECT_STAR = "SELECT_STAR"
    SCHEMA_DRIFT = "SCHEMA_DRIFT"
    PARAMETER_MISMATCH = "PARAMETER_MISMATCH"

    @classmethod
    def parse(cls, text: str) -> IssueType:
        """Return the type named by `text` (case-insensitive, '-' or '_'), or raise ValueError."""
        key = text.strip().upper().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown issue type {text!r} (expected one of: {names})") from None


@dataclass(frozen=True, order=True)
class Span:
    """A range of a file: 1-based lines, 1-based code-point columns, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int, length: int = 1) -> Span:
        """Return a one-line span of `length` characters starting at (line, column)."""
        return cls(line, column, line, column + max(length, 0))

    def contains(self, line: int, column: int) -> bool:
        """Return whether the position (line, column) lies inside this span (end exclusive)."""
        if (line, column) < (self.line, self.column):
            return False
        return (line, column) < (self.end_line, self.end_column)


@dataclass(frozen=True)
class Origin:
    """Where a schema object is defined: a migration (or DDL) file and a 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Issue:
    """One finding, at an exact span of one file, with what a fix needs to know."""

    type: IssueType
    severity: Severity
    path: str
    span: Span
    message: str
    table: str | None = None
    column_name: str | None = None
    db_type: str | None = None
    code_type: str | None = None
    helper: str | None = None
    origin: Origin | None = None
    suggestion: str | None = None
    # The span of the whole SQL expression (string, f-string, concatenation or call argument)
    # the issue was found in, so that a fix can work on that statement alone.
    statement_span: Span | None = None
    # The span of the whole call that sends the statement (receiver and arguments included).
    call_span: Span | None = None
    sql: str | None = None
    fingerprint: str = ""

    def to_json(self) -> dict[str, object]:
        """Return the documented JSON object for this issue (keys of docs/output.md)."""
        return {
            "type": self.type.value,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "message": self.message,
            "table": self.table,
            "column_name": self.column_name,
            "db_type": self.db_type,
            "code_type": self.code_type,
            "helper": self.helper,
            "origin": str(self.origin) if self.origin else None,
            "suggestion": self.suggestion,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: dict[str, object], sql: str | None = None) -> Issue:
        """Return the issue that `to_json` described (used by the result cache)."""
        origin = None
        if isinstance(data.get("origin"), str):
            opath, _, oline = str(data["origin"]).rpartition(":")
            origin = Origin(opath, int(oline))
        statement = data.get("statement_span")
        call = data.get("call_span")
        return cls(
            type=IssueType(str(data["type"])),
            severity=Severity(str(data["severity"])),
            path=str(data["path"]),
            span=Span(
                _int(data["line"]),
                _int(data["column"]),
                _int(data["end_line"]),
                _int(data["end_column"]),
            ),
            message=str(data["message"]),
            table=_opt_str(data.get("table")),
            column_name=_opt_str(data.get("column_name")),
            db_type=_opt_str(data.get("db_type")),
            code_type=_opt_str(data.get("code_type")),
            helper=_opt_str(data.get("helper")),
            origin=origin,
            suggestion=_opt_str(data.get("suggestion")),
            statement_span=Span(*(_int(v) for v in statement))
            if isinstance(statement, list)
            else None,
            call_span=Span(*(_int(v) for v in call)) if isinstance(call, list) else None,
            sql=sql if sql is not None else _opt_str(data.get("sql")),
            fingerprint=str(data.get("fingerprint", "")),
        )


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class FileNote:
    """Something about a file that is not an issue of the code: skipped, unreadable, not Python."""

    path: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class CheckResult:
    """What checking a set of files found: issues sorted by path and position, and notes."""

    issues: tuple[Issue, ...] = ()
    notes: tuple[FileNote, ...] = ()
    files_checked: int = 0
    statements_checked: int = 0
    cached_files: int = 0
    statements_partly: int = 0  # of those checked, the ones with a name or SQL text unknown

    def at_least(self, severity: Severity) -> tuple[Issue, ...]:
        """Return the issues of `severity` or worse."""
        return tuple(i for i in self.issues if i.severity.at_least(severity))


@dataclass(frozen=True)
class TextEdit:
    """Replace the text of `span` in `path` by `new_text` (positions as in Span)."""

    path: str
    span: Span
    new_text: str


# --- fixes: every change is a value that can be printed before it runs -------------------------


@dataclass(frozen=True)
class CodeFix:
    """Text edits to one Python file that fix one issue, checked before they are offered."""

    id: str  # stable for the same issue and kind: "<kind>:<issue fingerprint>"
    kind: str  # "remove_cast" | "parameterize" | "rename"
    title: str  # what an editor shows: "Remove the redundant int() cast"
    path: str  # relative to the project root, as in Issue.path
    issue_fingerprint: str
    edits: tuple[TextEdit, ...]
    source_hash: str  # blake2b of the file text the edits were made for: stale edits are refused


@dataclass(frozen=True)
class PlanStep:
    """One step of a migration plan: a SQL statement, or a check the executor runs there."""

    sql: str
    # "sql": run it. "verify_copy": compare every row of the old table with the new one (a
    # type change's rebuild) before the old table is dropped; `sql` then says what is checked.
    kind: str = "sql"


@dataclass(frozen=True)
class MigrationPlan:
    """A schema fix as ordered steps run in one transaction, with what it should achieve."""

    id: str  # stable for the same issue and kind: "<kind>:<issue fingerprint or target>"
    kind: str  # "create_table" | "add_column" | "create_index" | "change_type"
    title: str
    description: str
    table: str
    steps: tuple[PlanStep, ...]
    expected: str  # the expected effect, in words
    issue_fingerprint: str = ""
    column: str | None = None
    new_type: str | None = None  # change_type: the column's new declared type
    schema_version: int = -1  # PRAGMA schema_version when planned: a changed schema means replan
    migration_name: str = ""  # the name of the migration file it is written as, without number
    foreign_keys_off: bool = False  # run with PRAGMA foreign_keys=OFF (the rebuild procedure)
    check_sql: tuple[str, ...] = ()  # statements that must prepare once the plan is applied
    index_columns: tuple[str, ...] = ()  # create_index: the query plan must then use it

    @property
    def sql(self) -> str:
        """Return the plan as one SQL script, checks shown as comments."""
        lines = []
        for step in self.steps:
            text = step.sql.strip().rstrip(";")
            lines.append(text + ";" if step.kind == "sql" else f"-- {step.kind}: {text}")
        return "\n".join(lines)


@dataclass(frozen=True)
class LossyReport:
    """Which rows of a column would not convert losslessly to a new type."""

    table: str
    column: str
    new_type: str
    total_rows: int
    lossy_count: int
    first_rowids: tuple[int, ...] = ()
    examples: tuple[str, ...] = ()  # repr() of the first lossy values

    @property
    def lossless(self) -> bool:
        """Return whether every value converts without loss."""
        return self.lossy_count == 0


@dataclass(frozen=True)
class VerifyCheck:
    """One verification of an applied fix: its name, whether it passed, and what was seen."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class VerifyReport:
    """All verifications of one applied fix."""

    checks: tuple[VerifyCheck, ...] = ()

    @property
    def ok(self) -> bool:
        """Return whether every check passed."""
        return all(c.ok for c in self.checks)

    def failures(self) -> tuple[VerifyCheck, ...]:
        """Return the checks that failed."""
        return tuple(c for c in self.checks if not c.ok)
