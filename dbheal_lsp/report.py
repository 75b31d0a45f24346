"""Render a `CheckResult` for ``dbheal check --format text|json|sarif``.

Every function here is pure: it takes the result (and a few options) and returns a string, without
a trailing newline, for the CLI to write. Positions are printed as the engine keeps them (lines
1-based, columns 1-based Unicode code points, end exclusive); SARIF declares that column kind.
The formats are described in docs/output.md.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from types import MappingProxyType
from urllib.parse import quote

from dbheal_lsp.model import CheckResult, FileNote, Issue, IssueType, Origin, Severity
from dbheal_lsp.rules import RULES

__all__ = [
    "INFORMATION_URI",
    "SARIF_SCHEMA",
    "SARIF_VERSION",
    "baseline_known_line",
    "baseline_recorded_line",
    "exit_code",
    "render_json",
    "render_sarif",
    "render_text",
    "summary_line",
]

INFORMATION_URI = "https://github.com/dbheal/dbheal"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "dbheal/v1"
SRCROOT = "%SRCROOT%"

# ANSI Select Graphic Rendition sequences used by the text format.
_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_SEVERITY_STYLE: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "\x1b[1;31m",  # bold red
        Severity.HIGH: "\x1b[33m",  # yellow
        Severity.MEDIUM: "\x1b[34m",  # blue
        Severity.LOW: "\x1b[2m",  # dim
    }
)

_SARIF_LEVEL: Mapping[Severity, str] = MappingProxyType(
    {
        Severity.CRITICAL: "error",
        Severity.HIGH: "warning",
        Severity.MEDIUM: "warning",
        Severity.LOW: "note",
    }
)

# Order in which severities are counted in the summary line, worst first.
_SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
)

# Unicode bidirectional controls, escaped in text output like control characters
# ("Trojan Source": they can make a printed line read differently from what it contains).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


# --------------------------------------------------------------------------------------------
# Shared helpers


_DID_YOU_MEAN_TYPES = frozenset({IssueType.MISSING_TABLE, IssueType.MISSING_COLUMN})


def _issue_key(issue: Issue) -> tuple[str, int, int, int, int, str, str, str]:
    """Return the sort key that gives every format the same, stable order."""
    span = issue.span
    return (
        issue.path,
        span.line,
        span.column,
        span.end_line,
        span.end_column,
        issue.type.value,
        issue.message,
        issue.fingerprint,
    )


def _sorted_issues(issues: Iterable[Issue]) -> list[Issue]:
    return sorted(issues, key=_issue_key)


def _sorted_notes(notes: Iterable[FileNote]) -> list[FileNote]:
    return sorted(notes, key=lambda n: (n.path, n.line or 0, n.message))


def _relative_to_root(path: str, root: Path | None) -> PurePath | None:
    """Return `path` relative to `root` if it lies inside it, else None (no file system access)."""
    if root is None:
        return None
    try:
        return PurePath(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        return None


def _display_path(path: str, root: Path | None) -> str:
    """Return the path as the text format shows it: relative to `root` when inside it."""
    relative = _relative_to_root(path, root)
    return str(relative) if relative is not None else path


def _message(issue: Issue) -> str:
    """Return the issue's message with its suggestion, unless the message already carries it."""
    message = issue.message
    suggestion = issue.suggestion
    if not suggestion or issue.type not in _DID_YOU_MEAN_TYPES:
        return message
    quoted = (f"'{suggestion}'", f'"{suggestion}"', f"`{suggestion}`")
    if any(q in message for q in quoted):
        return message
    return f"{message}  did you mean '{suggestion}'?"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


# --------------------------------------------------------------------------------------------
# Text


def _clean(text: str) -> str:
    """Escape control and bidi characters so that a message cannot style or break the output."""
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc":
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def _style(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def summary_line(result: CheckResult) -> str:
    """Return the one line that sums a check up: issues by severity, files, statements."""
    files = _plural(result.files_checked, "file")
    statements = _plural(result.statements_checked, "statement")
    # A name or piece of SQL built at run time hides part of a statement: say how many.
    partly = f", {result.statements_partly} of them partly" if result.statements_partly else ""
    if not result.issues:
        return f"No issues found in {files}; {statements} checked{partly}."
    counts = Counter(issue.severity for issue in result.issues)
    parts = ", ".join(f"{counts[s]} {s.value}" for s in _SEVERITY_ORDER if counts[s])
    with_issues = len({issue.path for issue in result.issues})
    total = max(result.files_checked, with_issues)
    return (
        f"Found {_plural(len(result.issues), 'issue')} ({parts}) in {with_issues} of "
        f"{_plural(total, 'file')}; {statements} checked{partly}."
    )


def render_text(result: CheckResult, *, color: bool, root: Path | None = None) -> str:
    """Return the human-readable report of `result`.

    Issues are grouped by file: a header line with the path and the file's issue count, then one
    line per issue, ``path:line:col: severity TYPE message``, sorted by position; the suggestion
    is appended as ``  did you mean 'x'?`` unless the message already names it. Notes follow as
    ``path: note: message`` (``path:line: note: message`` when the note has a line), then a summary
    line. With `color` the severity is coloured (critical bold red, high yellow, medium blue, low
    dim) and paths are bold; without it the output contains no escape codes at all (control
    characters inside messages are escaped too). Paths are shown relative to `root` when given and
    inside it. The string has no trailing newline.
    """
    blocks: list[list[str]] = []

    by_file: dict[str, list[Issue]] = {}
    for issue in _sorted_issues(result.issues):
        by_file.setdefault(_display_path(issue.path, root), []).append(issue)
    for shown, issues in sorted(by_file.items()):
        path = _style(_clean(shown), _BOLD, color)
        lines = [f"{path} ({_plural(len(issues), 'issue')})"]
        for issue in sorted(issues, key=lambda i: (i.span.line, i.span.column, _issue_key(i))):
            severity = _style(issue.severity.value, _SEVERITY_STYLE[issue.severity], color)
            lines.append(
                f"{path}:{issue.span.line}:{issue.span.column}: {severity} "
                f"{issue.type.value} {_clean(_message(issue))}"
            )
        blocks.append(lines)

    if result.notes:
        note_lines: list[str] = []
        for note in _sorted_notes(result.notes):
            path = _style(_clean(_display_path(note.path, root)), _BOLD, color)
            where = f"{path}:{note.line}" if note.line is not None else path
            note_lines.append(f"{where}: note: {_clean(note.message)}")
        blocks.append(note_lines)

    blocks.append([summary_line(result)])
    return "\n\n".join("\n".join(lines) for lines in blocks)


# --------------------------------------------------------------------------------------------
# JSON


def render_json(result: CheckResult) -> str:
    """Return the issues of `result` as a JSON list of `Issue.to_json()` objects, followed by
    one object per note (`"type": "NOTE"`, see `note_to_json`).

    Issues are sorted by path, then position, then type, and notes by path and line, so that the
    output is stable; it is indented by 2 spaces and keeps non-ASCII text as is (write it as
    UTF-8). No trailing newline.
    """
    return json.dumps(
        [issue.to_json() for issue in _sorted_issues(result.issues)]
        + [note_to_json(note) for note in _sorted_notes(result.notes)],
        indent=2,
        ensure_ascii=False,
    )


def note_to_json(note: FileNote) -> dict[str, object]:
    """Return a note (a file skipped, not valid Python, unreadable) as an object with the keys
    of an issue: `"type": "NOTE"`, `"severity": "note"`, at its line (1 when it has none), column
    1, the rest null. A script that reads issues reads it without a change, and can skip it by
    its type."""
    line = max(note.line or 1, 1)
    return {
        "type": "NOTE",
        "severity": "note",
        "path": note.path,
        "line": line,
        "column": 1,
        "end_line": line,
        "end_column": 1,
        "message": note.message,
        "table": None,
        "column_name": None,
        "db_type": None,
        "code_type": None,
        "helper": None,
        "origin": None,
        "suggestion": None,
        "fingerprint": "",
    }


# --------------------------------------------------------------------------------------------
# SARIF


def _artifact_location(path: str, root: Path | None) -> dict[str, object]:
    """Return a SARIF artifactLocation: a relative, forward-slash uri based on %SRCROOT%.

    A path inside `root` is made relative to it; a relative path is taken as relative to the
    source root already; an absolute path outside `root` becomes an absolute file: URI.
    """
    relative = _relative_to_root(path, root)
    if relative is None:
        pure = PurePath(path)
        if pure.is_absolute():
            return {"uri": Path(os.path.abspath(path)).as_uri()}
        relative = pure
    # The name's own bytes, percent-encoded: a file name that is not UTF-8 (lone surrogates
    # here) still gives a valid uri that names that very file.
    return {"uri": quote(os.fsencode(relative.as_posix()), safe="/"), "uriBaseId": SRCROOT}


def _region(issue: Issue) -> dict[str, int]:
    """Return the SARIF region of an issue (1-based, end column exclusive, never before start)."""
    span = issue.span
    start_line = max(span.line, 1)
    start_column = max(span.column, 1)
    end_line = max(span.end_line, start_line)
    end_column = max(span.end_column, 1)
    if end_line == start_line:
        end_column = max(end_column, start_column)
    return {
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def _sarif_rules() -> list[dict[str, object]]:
    rules: list[dict[str, object]] = []
    for rule in RULES:
        help_uri = rule.docs_url
        properties: dict[str, object] = {"tags": list(rule.tags)}
        if rule.security_severity is not None:
            properties["security-severity"] = rule.security_severity
        rules.append(
            {
                "id": rule.type.value,
                "name": rule.name,
                "shortDescription": {"text": rule.short},
                "fullDescription": {"text": rule.full},
                "help": {
                    "text": f"{rule.full} See {help_uri}",
                    "markdown": f"{rule.full}\n\nSee [{rule.type.value}]({help_uri}).",
                },
                "helpUri": help_uri,
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
                "properties": properties,
            }
        )
    return rules


def _related_location(issue: Issue, origin: Origin, root: Path | None) -> dict[str, object]:
    what = f"table '{issue.table}'" if issue.table else "the schema object"
    return {
        "id": 1,
        "physicalLocation": {
            "artifactLocation": _artifact_location(origin.path, root),
            "region": {"startLine": max(origin.line, 1)},
        },
        "message": {"text": f"Definition of {what} ({origin})."},
    }


def _sarif_result(issue: Issue, rule_index: int, root: Path | None) -> dict[str, object]:
    properties: dict[str, object] = {"severity": issue.severity.value}
    for key in ("table", "column_name", "db_type", "code_type", "helper"):
        value = getattr(issue, key)
        if value is not None:
            properties[key] = value
    result: dict[str, object] = {
        "ruleId": issue.type.value,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[issue.severity],
        "message": {"text": _message(issue)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact_location(issue.path, root),
                    "region": _region(issue),
                }
            }
        ],
    }
    if issue.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: issue.fingerprint}
    if issue.origin is not None:
        result["relatedLocations"] = [_related_location(issue, issue.origin, root)]
    result["properties"] = properties
    return result


def _notification(note: FileNote, root: Path | None) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": _artifact_location(note.path, root)}
    if note.line is not None:
        physical["region"] = {"startLine": max(note.line, 1)}
    return {
        "level": "note",
        "message": {"text": note.message},
        "locations": [{"physicalLocation": physical}],
    }


def render_sarif(result: CheckResult, *, tool_version: str, root: Path | None = None) -> str:
    """Return `result` as a SARIF 2.1.0 log that GitHub code scanning accepts.

    One run: the ``dbheal`` driver with one rule per entry of `rules.RULES` (in its order, so
    ``ruleIndex`` is stable), one result per issue with a relative, forward-slash uri based on ``%SRCROOT%``
    (relative to `root` when given), a region in 1-based code-point columns (the run declares
    ``columnKind: unicodeCodePoints``), the issue's fingerprint under ``partialFingerprints``
    and its origin as a related location. Notes become tool execution notifications of the one
    invocation. No trailing newline.
    """
    rule_index = {rule.type: index for index, rule in enumerate(RULES)}
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "dbheal",
                "informationUri": INFORMATION_URI,
                "version": tool_version,
                "rules": _sarif_rules(),
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    _notification(note, root) for note in _sorted_notes(result.notes)
                ],
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": [
            _sarif_result(issue, rule_index[issue.type], root)
            for issue in _sorted_issues(result.issues)
        ],
    }
    if root is not None:
        base = Path(os.path.abspath(root)).as_uri().rstrip("/") + "/"
        run["originalUriBaseIds"] = {SRCROOT: {"uri": base}}
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Exit code


def exit_code(result: CheckResult, fail_on: Severity) -> int:
    """Return 1 when `result` has an issue of severity `fail_on` or worse, else 0.

    (Exit code 2, a usage or configuration error, is the CLI's own business.)
    """
    return 1 if result.at_least(fail_on) else 0


# --------------------------------------------------------------------------------------------
# Baseline


def baseline_recorded_line(count: int, file: str) -> str:
    """Return what `dbheal check --baseline FILE` says when it (re)writes FILE."""
    return (
        f"Recorded {_plural(count, 'finding')} in {file}: later runs with --baseline {file} "
        "show and fail only on new ones."
    )


def baseline_known_line(count: int, file: str) -> str:
    """Return what `dbheal check --baseline FILE` says about the findings FILE already knows."""
    return f"{_plural(count, 'known finding')} from {file} not shown."
