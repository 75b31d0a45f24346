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

    @property
    def default_severity(self) -> Severity:
        """Return the severity this type has unless the configuration overrides it."""
        return DEFAULT_SEVERITIES[self]

    @classmethod
    def parse(cls, text: str) -> IssueType:
        """Return the type named by `text` (case-insensitive, '-' or '_'), or raise ValueError."""
        key = text.strip().upper().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown issue type {text!r} (expected one of: {names})") from None


DEFAULT_SEVERITIES: dict[IssueType, Severity] = {
    IssueType.MISSING_TABLE: Severity.CRITICAL,
    IssueType.MISSING_COLUMN: Severity.CRITICAL,
    IssueType.SQL_SYNTAX: Severity.CRITICAL,
    IssueType.TYPE_MISMATCH: Severity.MEDIUM,
    IssueType.MISSING_INDEX: Severity.HIGH,
    IssueType.SQL_INJECTION: Severity.CRITICAL,
    IssueType.DYNAMIC_IDENTIFIER: Severity.MEDIUM,
    IssueType.SELECT_STAR: Severity.LOW,
    IssueType.SCHEMA_DRIFT: Severity.HIGH,
}


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

    def at_least(self, severity: Severity) -> tuple[Issue, ...]:
        """Return the issues of `severity` or worse."""
        return tuple(i for i in self.issues if i.severity.at_least(severity))


@dataclass(frozen=True)
class TextEdit:
    """Replace the text of `span` in `path` by `new_text` (positions as in Span)."""

    path: str
    span: Span
    new_text: str
